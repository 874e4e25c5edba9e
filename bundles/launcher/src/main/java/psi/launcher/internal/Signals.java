package psi.launcher.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT handed to the daemon instead of ending the JVM: the JDK
 * runs shutdown hooks and exits with 143, while a service manager stopping
 * psi expects the daemon to finish its commands and exit with 0.
 * {@code sun.misc.Signal} (module jdk.unsupported) is the JDK's own way; it
 * needs no native code of psi's.
 */
final class Signals {

	private final List<Signal> signals = new ArrayList<>();
	private final List<SignalHandler> previous = new ArrayList<>();

	private Signals() {
	}

	/**
	 * @param onSignal told {@code "SIGTERM"} or {@code "SIGINT"}, on the JVM's signal thread: must not block
	 * @return the installed handlers, to {@link #restore()}
	 */
	static Signals install(Consumer<String> onSignal) {
		Signals s = new Signals();
		for (String name : new String[] { "TERM", "INT" }) {
			Signal sig = new Signal(name);
			s.signals.add(sig);
			s.previous.add(Signal.handle(sig, x -> onSignal.accept("SIG" + name)));
		}
		return s;
	}

	/** Puts back the handlers that were there before. */
	void restore() {
		for (int i = 0; i < signals.size(); i++) {
			Signal.handle(signals.get(i), previous.get(i));
		}
	}
}
