package psi.shell.internal;

import java.io.IOException;
import java.util.Locale;

import com.google.gson.ExclusionStrategy;
import com.google.gson.FieldAttributes;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;

import psi.api.PsiException;

/**
 * {@code --json=pretty|short|off}, as systemctl and machinectl spell it: the
 * commands' DTOs as JSON objects whose keys are the DTO fields (documented
 * in {@code psi.api.dto}, versioned with it). Enum values are written as the
 * text shows them ({@code attached-runtime}); byte-for-byte copies of a text
 * field (os-release, unit files) are left out; absent values are
 * {@code null}.
 */
final class Json {

	/** Whether and how to print JSON. */
	enum Mode {
		OFF, SHORT, PRETTY
	}

	private static final ExclusionStrategy NO_BYTES = new ExclusionStrategy() {
		@Override
		public boolean shouldSkipField(FieldAttributes f) {
			return f.getDeclaredClass() == byte[].class;
		}

		@Override
		public boolean shouldSkipClass(Class<?> c) {
			return false;
		}
	};

	@SuppressWarnings("rawtypes")
	private static final TypeAdapter<Enum> LABELS = new TypeAdapter<>() {
		@Override
		public void write(JsonWriter out, Enum value) throws IOException {
			if (value == null) {
				out.nullValue();
			} else {
				out.value(value.name().toLowerCase(Locale.ROOT).replace('_', '-'));
			}
		}

		@Override
		public Enum read(JsonReader in) {
			throw new UnsupportedOperationException("psi writes JSON only");
		}
	};

	private static final Gson SHORT = builder().create();
	private static final Gson PRETTY = builder().setPrettyPrinting().create();

	private Json() {
	}

	private static GsonBuilder builder() {
		return new GsonBuilder().serializeNulls().disableHtmlEscaping().setExclusionStrategies(NO_BYTES)
			.registerTypeHierarchyAdapter(Enum.class, LABELS);
	}

	/** @param option the value of {@code --json}: empty (not given) is off */
	static Mode mode(String option) {
		return switch (option == null ? "" : option) {
			case "", "off" -> Mode.OFF;
			case "short" -> Mode.SHORT;
			case "pretty" -> Mode.PRETTY;
			default -> throw new PsiException("Unknown argument to --json= '" + option + "': pretty, short or off");
		};
	}

	/** @return the value as a JSON tree, to add to */
	static JsonElement tree(Object value) {
		return SHORT.toJsonTree(value);
	}

	/** @return the value as JSON, one line or indented, ending in a newline */
	static String of(Object value, Mode mode) {
		return (mode == Mode.PRETTY ? PRETTY : SHORT).toJson(value) + "\n";
	}
}
