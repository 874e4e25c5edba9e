package psi.manager.embedded.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code RemoveIPC=} (implied by {@code DynamicUser=}): when a service of a
 * user other than root stops, the System V shared memory, message queues and
 * semaphores that user owns, and its POSIX message queues, are removed, as
 * systemd removes them. Read from {@code /proc/sysvipc}; removed with
 * util-linux's {@code ipcrm} by id.
 */
final class Ipc {

	private Ipc() {
	}

	/** @return how many objects were removed */
	static int remove(int uid) {
		if (uid == 0) {
			return 0;
		}
		int n = 0;
		// file, option of ipcrm, column of the uid
		String[][] kinds = { { "shm", "-m", "7" }, { "msg", "-q", "7" }, { "sem", "-s", "4" } };
		for (String[] k : kinds) {
			List<String> ids = new ArrayList<>();
			try {
				List<String> lines = Files.readAllLines(Path.of("/proc/sysvipc", k[0]));
				for (String l : lines.subList(Math.min(1, lines.size()), lines.size())) {
					String[] f = l.trim().split("\\s+");
					int col = Integer.parseInt(k[2]);
					if (f.length > col && f[col].equals(Integer.toString(uid)) && f[1].matches("[0-9]+")) {
						ids.add(f[1]);
					}
				}
			} catch (IOException | RuntimeException e) {
				continue;
			}
			for (String id : ids) {
				try {
					if (ImageMount.run(List.of("ipcrm", k[1], id)).status() == 0) {
						n++;
					}
				} catch (IOException e) {
					// gone meanwhile
				}
			}
		}
		Path mq = Path.of("/dev/mqueue");
		if (Files.isDirectory(mq)) {
			try (var s = Files.list(mq)) {
				for (Path q : (Iterable<Path>) s::iterator) {
					if (((Integer) Files.getAttribute(q, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS)) == uid) {
						Files.deleteIfExists(q);
						n++;
					}
				}
			} catch (IOException | RuntimeException e) {
				// nothing to remove
			}
		}
		return n;
	}
}
