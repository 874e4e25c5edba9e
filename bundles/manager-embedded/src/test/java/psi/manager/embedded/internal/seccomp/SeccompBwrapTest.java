package psi.manager.embedded.internal.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The programs, installed for real by bubblewrap ({@code bwrap --seccomp FD}), on the host's architecture. They fail,
 * not skip, where /usr/bin/bwrap is missing (CI installs it).
 */
class SeccompBwrapTest {

	static final Path BWRAP = Path.of("/usr/bin/bwrap");
	static final String PYTHON = "/usr/bin/python3";

	@TempDir
	static Path dir;

	@BeforeAll
	static void bwrap() {
		// not skipped: the README's apt-get line and CI install bubblewrap, and these are the real tests
		assertTrue(Files.isExecutable(BWRAP), BWRAP + " is missing: install the Debian package bubblewrap (the README's apt-get line)");
	}

	record Result(int status, String output) {
	}

	/** runs a shell script in bubblewrap, root read-only, a tmpfs on /tmp, with the program installed */
	static Result sandbox(SeccompFilter.Builder filter, String script) throws IOException, InterruptedException {
		Path program = Files.createTempFile(dir, "seccomp", ".bpf");
		Files.write(program, filter.build());
		ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c",
				"exec 3<\"$0\"; exec " + BWRAP + " --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-pid"
						+ " --die-with-parent --seccomp 3 -- /bin/sh -c \"$1\"",
				program.toString(), script);
		pb.redirectErrorStream(true);
		pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
		Process p = pb.start();
		byte[] out = p.getInputStream().readAllBytes();
		if (!p.waitFor(20, TimeUnit.SECONDS)) {
			p.destroyForcibly();
			throw new AssertionError("bwrap did not finish");
		}
		Result r = new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
		System.out.println("---- " + script.lines().findFirst().orElse("") + "\n" + r.output + "---- exit " + r.status);
		return r;
	}

	static String python(String code) {
		return PYTHON + " -c '" + code.replace("'", "'\\''") + "'";
	}

	static final String SWAPON = python("import ctypes, os\n" + "libc = ctypes.CDLL(None, use_errno=True)\n"
			+ "r = libc.swapon(b\"/nonexistent\", 0)\n" + "print(\"swapon errno\", ctypes.get_errno(), flush=True)\n");

	@Test
	void systemServiceAllowList() throws Exception {
		SeccompFilter.Builder b = SeccompFilter.forHost().systemCallFilter("@system-service")
				.systemCallErrorNumber("EPERM");
		Result r = sandbox(b, "ls / >/dev/null && echo ls-ok; cat /etc/hostname >/dev/null && echo cat-ok; "
				+ "/bin/sh -c 'echo sh-ok'; head -c 65536 /dev/zero >/tmp/swap; /bin/busybox swapon /tmp/swap; "
				+ SWAPON + "; echo done");
		assertEquals(0, r.status, r.output);
		assertTrue(r.output.contains("ls-ok"), r.output);
		assertTrue(r.output.contains("cat-ok"), r.output);
		assertTrue(r.output.contains("sh-ok"), r.output);
		assertTrue(r.output.contains("swapon: /tmp/swap: Operation not permitted"), r.output);
		assertTrue(r.output.contains("swapon errno 1\n"), r.output);
		assertTrue(r.output.contains("done"), r.output);

		// the same calls, not filtered: the errors are the kernel's own
		Result control = sandbox(SeccompFilter.forHost().systemCallFilter("~@mount"),
				"head -c 65536 /dev/zero >/tmp/swap; /bin/busybox swapon /tmp/swap; " + SWAPON);
		assertFalse(control.output.contains("Operation not permitted"), control.output);
		assertTrue(control.output.contains("swapon errno 2\n"), control.output);
	}

	@Test
	void denyList() throws Exception {
		Result r = sandbox(SeccompFilter.forHost().systemCallFilter("~@mount").systemCallErrorNumber("EPERM"),
				"mount -t tmpfs x /mnt; echo mount=$?; /bin/busybox mount -t tmpfs x /mnt; echo busybox=$?; ls / >/dev/null && echo ls-ok");
		assertTrue(r.output.contains("mount: /mnt: permission denied"), r.output);
		assertTrue(r.output.contains("mount=32"), r.output);
		assertTrue(r.output.contains("busybox=1"), r.output);
		assertTrue(r.output.contains("ls-ok"), r.output);
		Result control = sandbox(SeccompFilter.forHost().systemCallFilter("~@swap"),
				"mount -t tmpfs x /mnt; echo mount=$?");
		assertTrue(control.output.contains("mount=0"), control.output);
	}

	@Test
	void errorNumber() throws Exception {
		Result r = sandbox(SeccompFilter.forHost().systemCallFilter("@system-service").systemCallErrorNumber("EACCES"),
				SWAPON);
		assertTrue(r.output.contains("swapon errno 13\n"), r.output);
	}

	@Test
	void killByDefault() throws Exception {
		Result r = sandbox(SeccompFilter.forHost().systemCallFilter("~uname"), "uname; echo status=$?");
		assertTrue(r.output.contains("status=159"), r.output); // 128 + SIGSYS
		// an allow list without uname: killed as well
		Result a = sandbox(SeccompFilter.forHost().systemCallFilter("@system-service").systemCallFilter("~uname"),
				"uname; echo status=$?");
		assertTrue(a.output.contains("status=159"), a.output);
	}

	@Test
	void addressFamilies() throws Exception {
		String code = python("import socket\n" + "socket.socket(socket.AF_UNIX).close()\n" + "print(\"unix ok\")\n"
				+ "try:\n" + "    socket.socket()\n" + "    print(\"inet ok\")\n" + "except OSError as e:\n"
				+ "    print(\"inet errno\", e.errno)\n");
		Result r = sandbox(SeccompFilter.forHost().restrictAddressFamilies("AF_UNIX"), code);
		assertTrue(r.output.contains("unix ok"), r.output);
		assertTrue(r.output.contains("inet errno 97"), r.output);
		Result d = sandbox(SeccompFilter.forHost().restrictAddressFamilies("~AF_INET AF_INET6"), code);
		assertTrue(d.output.contains("unix ok"), d.output);
		assertTrue(d.output.contains("inet errno 97"), d.output);
	}

	@Test
	void namespaces() throws Exception {
		Result r = sandbox(SeccompFilter.forHost().restrictNamespaces("yes"),
				"unshare -U true; echo user=$?; unshare -n true; echo net=$?; /bin/sh -c 'echo fork-ok'");
		assertTrue(r.output.contains("unshare: unshare failed: Operation not permitted"), r.output);
		assertTrue(r.output.contains("user=1"), r.output);
		assertTrue(r.output.contains("net=1"), r.output);
		assertTrue(r.output.contains("fork-ok"), r.output);
		Result n = sandbox(SeccompFilter.forHost().restrictNamespaces("net"),
				"unshare -U true; echo user=$?; unshare -n true; echo net=$?");
		assertTrue(n.output.contains("user=1"), n.output);
		assertTrue(n.output.contains("net=0"), n.output);
	}

	@Test
	void memoryDenyWriteExecute() throws Exception {
		Result r = sandbox(SeccompFilter.forHost().memoryDenyWriteExecute(true), python("import mmap\n" + "try:\n"
				+ "    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
				+ "    print(\"wx ok\")\n" + "except OSError as e:\n" + "    print(\"wx errno\", e.errno)\n"
				+ "mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE)\n" + "print(\"w ok\")\n"));
		assertTrue(r.output.contains("wx errno 1\n"), r.output);
		assertTrue(r.output.contains("w ok"), r.output);
	}

	@Test
	void suidSgidPersonalityRealtime() throws Exception {
		Result r = sandbox(SeccompFilter.forHost().restrictSuidSgid(true).lockPersonality(true).restrictRealtime(true),
				"touch /tmp/f; chmod u+s /tmp/f; echo suid=$?; chmod 755 /tmp/f; echo plain=$?; "
						+ "setarch linux32 true; echo linux32=$?; chrt -f 1 true; echo fifo=$?; chrt -b 0 true; echo batch=$?");
		assertTrue(r.output.contains("suid=1"), r.output);
		assertTrue(r.output.contains("plain=0"), r.output);
		assertTrue(r.output.contains("linux32=1"), r.output);
		assertTrue(r.output.contains("fifo=1"), r.output);
		assertTrue(r.output.contains("batch=0"), r.output);
		Result control = sandbox(SeccompFilter.forHost().protectClock(true),
				"touch /tmp/f; chmod u+s /tmp/f; echo suid=$?; setarch linux32 true; echo linux32=$?; chrt -f 1 true; echo fifo=$?");
		assertTrue(control.output.contains("suid=0"), control.output);
		assertTrue(control.output.contains("linux32=0"), control.output);
		assertTrue(control.output.contains("fifo=0"), control.output);
	}

	@Test
	void x32IsAnotherAbi() throws Exception {
		assumeTrue(SeccompFilter.forHost().arch().equals("x86_64"), "x32 is an x86_64 ABI");
		String code = python("import ctypes\n" + "libc = ctypes.CDLL(None, use_errno=True)\n"
				+ "print(\"native\", libc.syscall(39) > 0, flush=True)\n" + "r = libc.syscall(0x40000000 | 39)\n"
				+ "print(\"x32 returned\", flush=True)\n");
		Result r = sandbox(SeccompFilter.forHost().systemCallArchitectures("native"), code + "; echo status=$?");
		assertTrue(r.output.contains("native True"), r.output);
		assertFalse(r.output.contains("x32 returned"), r.output);
		assertTrue(r.output.contains("status=159"), r.output);
		Result d = sandbox(SeccompFilter.forHost().systemCallFilter("~@mount"), code + "; echo status=$?");
		assertTrue(d.output.contains("x32 returned"), d.output);
		assertTrue(d.output.contains("status=0"), d.output);
	}

	@Test
	void everythingAtOnceStillRunsPrograms() throws Exception {
		SeccompFilter.Builder b = SeccompFilter.forHost().systemCallFilter("@system-service")
				.systemCallFilter("~@privileged @resources").systemCallErrorNumber("EPERM")
				.systemCallArchitectures("native").restrictAddressFamilies("AF_UNIX AF_INET AF_INET6")
				.restrictNamespaces("yes").lockPersonality(true).restrictRealtime(true).memoryDenyWriteExecute(true)
				.restrictSuidSgid(true).protectClock(true).protectKernelModules(true).protectKernelLogs(true)
				.protectKernelTunables(true).protectHostname(true).privateDevices(true);
		Result r = sandbox(b, "ls -la / >/dev/null && echo ls-ok; echo x >/tmp/x && cat /tmp/x; "
				+ python("import json, socket, subprocess\n" + "socket.socket().close()\n"
						+ "print(subprocess.run([\"echo\", \"sub-ok\"], capture_output=True, text=True).stdout.strip())\n")
				+ "; hostname foo; echo hostname=$?; date -s @0 >/dev/null; echo date=$?");
		assertEquals(0, r.status, r.output);
		assertTrue(r.output.contains("ls-ok"), r.output);
		assertTrue(r.output.contains("x\n"), r.output);
		assertTrue(r.output.contains("sub-ok"), r.output);
		assertTrue(r.output.contains("hostname=1"), r.output);
		assertTrue(r.output.contains("date=1"), r.output);
	}
}
