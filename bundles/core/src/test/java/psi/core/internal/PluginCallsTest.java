package psi.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import psi.api.PsiException;

/** The one guarded place plugin calls go through, outside a framework. */
class PluginCallsTest {

	static final class Plugin {
	}

	final PluginCalls calls = new PluginCalls(new PluginCalls.Limits(1, 1, 1, 1, 1));
	final Plugin plugin = new Plugin();

	@Test
	void anAnswerPassesThrough() throws IOException {
		assertEquals("x", calls.call(PluginCalls.Kind.FORMAT, plugin, "opening x", () -> "x"));
	}

	@Test
	void anIOExceptionIsThePluginsAnswerAndPassesUnchanged() {
		IOException e = new IOException("bad image");
		assertSame(e, assertThrows(IOException.class, () -> calls.call(PluginCalls.Kind.FORMAT, plugin, "opening x", () -> {
			throw e;
		})));
	}

	@Test
	void aBugIsOneLineNamingThePlugin() {
		PsiException e = assertThrows(PsiException.class, () -> calls.call(PluginCalls.Kind.POLICY, plugin, "giving profile 'x'", () -> {
			throw new NullPointerException("oops");
		}));
		assertEquals("sandbox policy psi.core.internal.PluginCallsTest$Plugin (not from a bundle) failed while giving profile 'x': "
			+ "java.lang.NullPointerException: oops", e.getMessage());
	}

	@Test
	void aHangIsCutOffAtTheLimit() {
		long start = System.nanoTime();
		PsiException e = assertThrows(PsiException.class, () -> calls.call(PluginCalls.Kind.MANAGER, plugin, "reloading", () -> {
			try {
				Thread.sleep(60_000);
			} catch (InterruptedException interrupted) {
				throw new java.io.InterruptedIOException();
			}
			return null;
		}));
		assertEquals("service manager psi.core.internal.PluginCallsTest$Plugin (not from a bundle) did not answer in 1 s while reloading; "
			+ "gave up on it (limit: managerTimeout of psi.engine)", e.getMessage());
		assertTrue(System.nanoTime() - start < 10_000_000_000L);
	}

	@Test
	void aTransferThatMakesProgressIsNotCutOff() throws IOException {
		AtomicLong beat = new AtomicLong(System.nanoTime());
		String r = calls.call(PluginCalls.Kind.TRANSPORT, plugin, "fetching", () -> {
			for (int i = 0; i < 6; i++) {
				try {
					Thread.sleep(400);
				} catch (InterruptedException e) {
					throw new java.io.InterruptedIOException();
				}
				beat.set(System.nanoTime());
			}
			return "done";
		}, beat);
		assertEquals("done", r, "2.4 s of steady progress against a 1 s limit");
	}

	@Test
	void nothingWhereAnAnswerIsDueIsRefused() {
		PsiException e = assertThrows(PsiException.class, () -> PluginCalls.answer(null, PluginCalls.Kind.VERIFIER, plugin, "verifying x"));
		assertTrue(e.getMessage().startsWith("verifier psi.core.internal.PluginCallsTest$Plugin (not from a bundle) answered nothing (null)"),
			e.getMessage());
	}
}
