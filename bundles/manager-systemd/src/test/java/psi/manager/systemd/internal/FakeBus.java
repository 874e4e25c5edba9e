package psi.manager.systemd.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A scripted systemd: answers by method name, records every call ("member args..."). */
class FakeBus implements Bus {

	interface Answer {
		Object[] answer(Object[] args) throws IOException;
	}

	final List<String> calls = new ArrayList<>();
	final Map<String, Answer> answers = new HashMap<>();
	boolean closed;

	FakeBus on(String member, Answer a) {
		answers.put(member, a);
		return this;
	}

	@Override
	public synchronized Object[] call(String path, String iface, String member, Duration timeout, String signature,
			Object... args) throws IOException {
		calls.add((member + " " + String.join(" ", Arrays.stream(args).map(FakeBus::show).toList())).strip());
		Answer a = answers.get(member);
		if (a == null) {
			throw new IOException("fake: no answer for " + member);
		}
		return a.answer(args);
	}

	@Override
	public synchronized void watchJobs() {
		calls.add("watchJobs");
	}

	@Override
	public void close() {
		closed = true;
	}

	static String show(Object o) {
		return o instanceof Object[] a ? Arrays.toString(a) : String.valueOf(o);
	}
}
