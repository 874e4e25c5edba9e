package psi.manager.embedded.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The services' output, one file per unit under {@code /var/log/psi/}
 * ({@code UNIT.log}, rotated by size to {@code UNIT.log.1}, ...). A line is
 * {@code TIME<TAB>PID<TAB>STREAM<TAB>PORTABLE<TAB>IDENT<TAB>MESSAGE}: the
 * time in microseconds since the epoch, the stream ({@code stdout},
 * {@code stderr}, {@code psi} for the manager's own), the image's file name
 * as portabled's {@code LogExtraFields=PORTABLE=} gives it. Read back
 * formatted as {@code journalctl -o short} prints.
 */
final class LogStore {

	/** A line kept longer than this is cut, as journald cuts at its LINE_MAX. */
	static final int MAX_LINE = 48 * 1024;

	private static final DateTimeFormatter SHORT = DateTimeFormatter.ofPattern("MMM dd HH:mm:ss", Locale.ROOT).withZone(ZoneId.systemDefault());

	private final Path dir;
	private final long maxBytes;
	private final int keep;
	private final String host;
	private final Map<String, Object> locks = new HashMap<>();
	private final List<Follower> followers = new CopyOnWriteArrayList<>();

	/**
	 * A reader following the lines of an image's units ({@code psi logs -f}).
	 * Lines reach it through a bounded queue and a thread of its own, so that
	 * a slow reader never holds up a service's output; when it falls more than
	 * {@link #QUEUE} lines behind, lines are dropped and it is told how many.
	 */
	static final class Follower {
		static final int QUEUE = 10_000;
		private final String portable;
		private final java.util.concurrent.BlockingQueue<String> queue = new java.util.concurrent.ArrayBlockingQueue<>(QUEUE);
		private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
		private final Thread thread;

		Follower(String portable, Consumer<String> sink) {
			this.portable = portable;
			this.thread = new Thread(() -> {
				try {
					while (true) {
						String l = queue.take();
						long d = dropped.getAndSet(0);
						if (d > 0) {
							sink.accept("-- psi: " + d + " lines not shown: the reader fell behind --");
						}
						sink.accept(l);
					}
				} catch (InterruptedException e) {
					// unfollowed
				}
			}, "psi-logs-follower");
			thread.setDaemon(true);
			thread.start();
		}

		String portable() {
			return portable;
		}

		void offer(String line) {
			if (!queue.offer(line)) {
				dropped.incrementAndGet();
			}
		}

		void close() {
			thread.interrupt();
		}
	}

	LogStore(Path dir, long maxBytes, int keep, String host) {
		this.dir = dir;
		this.maxBytes = maxBytes;
		this.keep = keep;
		this.host = host;
	}

	private synchronized Object lock(String unit) {
		return locks.computeIfAbsent(unit, u -> new Object());
	}

	/** Appends one line; rotates first when the file is full. */
	/** @return the name of a unit's log file: its own, or its template's for an instance */
	static String file(String unit) {
		int at = unit.indexOf('@');
		int dot = unit.lastIndexOf('.');
		return at > 0 && dot > at + 1 ? unit.substring(0, at + 1) + unit.substring(dot) : unit;
	}

	void append(String instance, long pid, String stream, String portable, String ident, String message) {
		// the instances of a template (one per connection of an Accept=yes socket) share the template's file
		String unit = file(instance);
		String m = message.length() > MAX_LINE ? message.substring(0, MAX_LINE) : message;
		m = m.replace('\n', ' ');
		long now = Instant.now().toEpochMilli() * 1000 + (System.nanoTime() / 1000) % 1000;
		String line = now + "\t" + pid + "\t" + stream + "\t" + clean(portable) + "\t" + clean(ident) + "\t" + m + "\n";
		synchronized (lock(unit)) {
			try {
				if (!Files.isDirectory(dir)) {
					Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
				}
				Path f = dir.resolve(unit + ".log");
				if (Files.exists(f) && Files.size(f) + line.length() > maxBytes) {
					rotate(unit);
				}
				Files.writeString(f, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
			} catch (IOException e) {
				// a full or read-only log directory must not stop the service
			}
		}
		for (Follower fo : followers) {
			if (fo.portable().equals(portable)) {
				fo.offer(format(new Entry(now, pid, stream, portable, ident, m, instance)));
			}
		}
	}

	private static String clean(String s) {
		return s == null ? "" : s.replace('\t', ' ').replace('\n', ' ');
	}

	private void rotate(String unit) throws IOException {
		for (int i = keep; i >= 1; i--) {
			Path from = dir.resolve(unit + ".log" + (i == 1 ? "" : "." + (i - 1)));
			Path to = dir.resolve(unit + ".log." + i);
			if (Files.exists(from)) {
				Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
			}
		}
		if (keep < 1) {
			Files.deleteIfExists(dir.resolve(unit + ".log"));
		}
	}

	/** A line read back. */
	record Entry(long micros, long pid, String stream, String portable, String ident, String message, String unit) {
	}

	/** @return the newest lines of a portable image's units, oldest first, formatted */
	List<String> tail(String portable, int lines) throws IOException {
		List<Entry> all = new ArrayList<>();
		if (Files.isDirectory(dir)) {
			try (var s = Files.list(dir)) {
				for (Path f : (Iterable<Path>) s::iterator) {
					String n = f.getFileName().toString();
					int at = n.indexOf(".log");
					if (at > 0 && Files.isRegularFile(f)) {
						read(f, n.substring(0, at), portable, all, lines);
					}
				}
			}
		}
		all.sort((a, b) -> Long.compare(a.micros(), b.micros()));
		List<String> out = new ArrayList<>();
		for (Entry e : all.subList(Math.max(0, all.size() - lines), all.size())) {
			out.add(format(e));
		}
		return out;
	}

	/** Reads the last part of a file that can hold the newest lines asked for. */
	private static void read(Path f, String unit, String portable, List<Entry> out, int lines) throws IOException {
		long budget = Math.min(Files.size(f), (long) Math.max(lines, 1) * (MAX_LINE + 256));
		byte[] b;
		try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "r")) {
			r.seek(r.length() - budget);
			b = new byte[(int) budget];
			r.readFully(b);
		}
		String[] ls = new String(b, StandardCharsets.UTF_8).split("\n");
		for (int i = budget < Files.size(f) ? 1 : 0; i < ls.length; i++) {
			String[] x = ls[i].split("\t", 6);
			if (x.length == 6 && x[3].equals(portable)) {
				try {
					out.add(new Entry(Long.parseLong(x[0]), Long.parseLong(x[1]), x[2], x[3], x[4], x[5], unit));
				} catch (NumberFormatException e) {
					// a damaged line: skipped
				}
			}
		}
	}

	String format(Entry e) {
		String ident = e.ident().isEmpty() ? e.unit() : e.ident();
		return SHORT.format(Instant.ofEpochMilli(e.micros() / 1000)) + " " + host + " " + ident + (e.pid() > 0 ? "[" + e.pid() + "]" : "") + ": " + e.message();
	}

	Follower follow(String portable, Consumer<String> sink) {
		Follower f = new Follower(portable, sink);
		followers.add(f);
		return f;
	}

	void unfollow(Follower f) {
		followers.remove(f);
		f.close();
	}

	/** Copies a process's stream into the log, line by line, until it ends. */
	Thread pump(InputStream in, String unit, long pid, String stream, String portable, String ident) {
		Thread t = new Thread(() -> {
			try (in) {
				StringBuilder line = new StringBuilder();
				java.io.Reader r = new java.io.InputStreamReader(in, StandardCharsets.UTF_8);
				char[] buf = new char[8192];
				int n;
				while ((n = r.read(buf)) > 0) {
					for (int i = 0; i < n; i++) {
						if (buf[i] == '\n') {
							append(unit, pid, stream, portable, ident, line.toString());
							line.setLength(0);
						} else if (line.length() < MAX_LINE) {
							line.append(buf[i]);
						}
					}
				}
				if (line.length() > 0) {
					append(unit, pid, stream, portable, ident, line.toString());
				}
			} catch (IOException e) {
				// the process ended
			}
		}, "psi-log-" + unit + "-" + stream);
		t.setDaemon(true);
		t.start();
		return t;
	}

}
