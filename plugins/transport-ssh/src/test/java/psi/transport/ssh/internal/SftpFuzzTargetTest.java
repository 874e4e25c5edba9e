package psi.transport.ssh.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing (Jazzer) of the SFTP codec: the input is all a
 * server says in a download (VERSION, the limits reply, ATTRS, HANDLE,
 * DATA and STATUS replies); the client completes it or refuses with one
 * line, never anything else, and never hands the sink more than asked.
 * Without {@code JAZZER_FUZZ} the seeds below
 * {@code SftpFuzzTargetTestInputs} run as tests; {@code itest/harness/fuzz.sh}
 * fuzzes.
 */
class SftpFuzzTargetTest {

	@FuzzTest(maxDuration = "10m")
	void download(byte[] server) {
		SftpClient c = new SftpClient(new ByteArrayInputStream(server), OutputStream.nullOutputStream());
		long[] got = { 0 };
		try {
			c.init();
			int max = c.maxRead();
			byte[] path = "/srv/app_1.raw".getBytes(StandardCharsets.UTF_8);
			SftpAttributes a = c.stat(path);
			byte[] h = c.open(path);
			long end = Math.min(Math.max(0, a.size()), 1 << 20);
			c.download(h, 0, end, Math.min(max, 4096), 4, (b, off, len) -> {
				got[0] += len;
				if (off < 0 || len < 0 || off + len > b.length) {
					throw new AssertionError("a slice outside its buffer");
				}
			});
			if (got[0] > end) {
				throw new AssertionError("the sink got " + got[0] + " bytes of " + end);
			}
			c.close(h);
		} catch (IOException e) {
			String m = e.getMessage();
			if (m == null || m.isBlank() || m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
				throw new AssertionError("a refusal that is not one line: " + m, e);
			}
		}
	}
}
