package psi.manager.embedded.internal.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import psi.spi.unit.SyscallGroups;

class SeccompFilterTest {

	static final int ALLOW = 0x7fff0000;
	static final int KILL = 0x80000000;
	static final int LOG = 0x7ffc0000;
	static final int EPERM = 0x00050000 | 1;
	static final int EACCES = 0x00050000 | 13;
	static final int ENOSYS = 0x00050000 | 38;
	static final int EAFNOSUPPORT = 0x00050000 | 97;

	static final int X86_64 = 0xc000003e;
	static final int I386 = 0x40000003;
	static final int AARCH64 = 0xc00000b7;
	static final int ARM = 0x40000028;

	static final long CLONE_NEWNS = 0x00020000L;
	static final long CLONE_NEWUSER = 0x10000000L;
	static final long CLONE_NEWNET = 0x40000000L;
	static final long CLONE_NEWTIME = 0x80L;
	static final long CLONE_FILES = 0x400L;
	static final long SIGCHLD = 17;

	/** the system call's number on x86_64 */
	static int nr(String name) {
		return nr("x86_64", name);
	}

	static int nr(String arch, String name) {
		Integer nr = SyscallTables.syscalls(arch).get(name);
		assertNotNull(nr, name + " on " + arch);
		return nr;
	}

	/** runs the program on x86_64 */
	static int run(SeccompFilter.Builder b, String syscall, long... args) {
		return run(b, X86_64, nr(syscall), args);
	}

	static int run(SeccompFilter.Builder b, int arch, int nr, long... args) {
		byte[] program = b.build();
		validate(Bpf.decode(program));
		return BpfInterpreter.run(program, arch, nr, args);
	}

	static SeccompFilter.Builder x86() {
		return SeccompFilter.builder("x86_64");
	}

	/** what the kernel's checker checks, on every instruction and not just on the paths run */
	static void validate(List<Bpf.Insn> p) {
		assertTrue(p.size() > 0 && p.size() <= 4096, "length " + p.size());
		for (int pc = 0; pc < p.size(); pc++) {
			Bpf.Insn i = p.get(pc);
			switch (i.code()) {
			case Bpf.LD_W_ABS -> assertTrue(i.k() >= 0 && i.k() <= 60 && i.k() % 4 == 0, "load at " + pc);
			case Bpf.ALU_AND_K, Bpf.RET_K -> {
			}
			case Bpf.JA -> assertTrue((long) pc + 1 + Integer.toUnsignedLong(i.k()) < p.size(), "ja at " + pc);
			case Bpf.JEQ_K, Bpf.JGT_K, Bpf.JGE_K, Bpf.JSET_K -> {
				assertTrue(pc + 1 + i.jt() < p.size(), "jt at " + pc);
				assertTrue(pc + 1 + i.jf() < p.size(), "jf at " + pc);
			}
			default -> throw new AssertionError("code " + i.code() + " at " + pc);
			}
		}
		assertEquals(Bpf.RET_K, p.get(p.size() - 1).code(), "ends with a return");
		// the architecture comes first
		assertEquals(Bpf.LD_W_ABS, p.get(0).code());
		assertEquals(4, p.get(0).k());
		assertEquals(Bpf.JEQ_K, p.get(1).code());
	}

	@Test
	void architectureIsCheckedFirst() {
		List<Bpf.Insn> p = Bpf.decode(x86().systemCallFilter("~@mount").build());
		assertEquals(new Bpf.Insn(Bpf.LD_W_ABS, 0, 0, 4, null), p.get(0));
		assertEquals(Bpf.JEQ_K, p.get(1).code());
		assertEquals(X86_64, p.get(1).k());
		List<Bpf.Insn> a = Bpf.decode(SeccompFilter.builder("aarch64").systemCallFilter("~@mount").build());
		assertEquals(AARCH64, a.get(1).k());
	}

	@Test
	void bytesAreLittleEndianSockFilters() {
		byte[] b = x86().systemCallFilter("~@mount").build();
		assertEquals(0, b.length % 8);
		// ld [4]: code 0x0020, jt 0, jf 0, k 4
		assertEquals(0x20, b[0]);
		assertEquals(0, b[1]);
		assertEquals(0, b[2]);
		assertEquals(0, b[3]);
		assertEquals(4, b[4]);
		assertEquals(0, b[5]);
		// jeq #0xc000003e
		assertEquals(0x15, b[8]);
		assertEquals(0x3e, b[12]);
		assertEquals(0x00, b[13]);
		assertEquals(0x00, b[14]);
		assertEquals((byte) 0xc0, b[15]);
	}

	@Test
	void allowList() {
		SeccompFilter.Builder b = x86().systemCallFilter("@system-service").systemCallErrorNumber("EPERM");
		assertTrue(b.any());
		assertEquals(ALLOW, run(b, "read"));
		assertEquals(ALLOW, run(b, "openat"));
		assertEquals(ALLOW, run(b, "clone"));
		assertEquals(EPERM, run(b, "swapon"));
		assertEquals(EPERM, run(b, "mount"));
		assertEquals(EPERM, run(b, "reboot"));
		assertEquals(EPERM, run(b, X86_64, 999));
		assertEquals(EPERM, run(b, X86_64, 0x3fffffff));
		// nr -1 goes through the dispatch, and gets the default
		assertEquals(EPERM, run(b, X86_64, -1));
		// other ABIs get the default action when SystemCallArchitectures= is unset
		assertEquals(EPERM, run(b, I386, 3));
		assertEquals(EPERM, run(b, X86_64, 0x40000000 | nr("read")));
		assertEquals(EPERM, run(b, AARCH64, 63));
	}

	@Test
	void allowListAlwaysAllowsDefault() {
		SeccompFilter.Builder b = x86().systemCallFilter("read");
		for (String s : List.of("execve", "exit", "exit_group", "rt_sigreturn", "getrlimit", "brk", "mmap", "futex",
				"arch_prctl", "getpid", "restart_syscall")) {
			assertEquals(ALLOW, run(b, s), s);
		}
		assertEquals(ALLOW, run(b, "read"));
		assertEquals(KILL, run(b, "write"), "default error number: kill");
		// every member of @default known on the architecture
		for (String s : SyscallGroups.of("@default")) {
			Integer n = SyscallTables.syscalls("x86_64").get(s);
			if (n != null) {
				assertEquals(ALLOW, run(b, X86_64, n), s);
			}
		}
	}

	@Test
	void denyList() {
		SeccompFilter.Builder b = x86().systemCallFilter("~@mount");
		assertEquals(KILL, run(b, "mount"));
		assertEquals(KILL, run(b, "umount2"));
		assertEquals(KILL, run(b, "pivot_root"));
		assertEquals(ALLOW, run(b, "read"));
		assertEquals(ALLOW, run(b, X86_64, 999));
		assertEquals(ALLOW, run(b, I386, 21), "other ABIs: unfiltered");
		assertEquals(ALLOW, run(b, X86_64, 0x40000000 | nr("mount")));
		b.systemCallErrorNumber("EPERM");
		assertEquals(EPERM, run(b, "mount"));
	}

	@Test
	void laterAssignments() {
		// allow mode: plain adds, ~ removes
		SeccompFilter.Builder a = x86().systemCallFilter("@basic-io").systemCallFilter("~write").systemCallFilter("uname")
				.systemCallErrorNumber("EACCES");
		assertEquals(ALLOW, run(a, "read"));
		assertEquals(EACCES, run(a, "write"));
		assertEquals(ALLOW, run(a, "uname"));
		assertEquals(EACCES, run(a, "mount"));
		// ~ in an allow list can remove @default too, as in systemd
		a.systemCallFilter("~execve");
		assertEquals(EACCES, run(a, "execve"));

		// deny mode: ~ adds, plain removes
		SeccompFilter.Builder d = x86().systemCallFilter("~@mount").systemCallFilter("mount").systemCallFilter("~uname")
				.systemCallErrorNumber("EPERM");
		assertEquals(ALLOW, run(d, "mount"));
		assertEquals(EPERM, run(d, "umount2"));
		assertEquals(EPERM, run(d, "uname"));

		// "" resets; the next assignment chooses the mode anew
		d.systemCallFilter("");
		assertFalse(d.any());
		assertEquals(ALLOW, run(d, "umount2"));
		d.systemCallFilter("@basic-io");
		assertEquals(EPERM, run(d, "umount2"));
		assertEquals(ALLOW, run(d, "read"));
	}

	@Test
	void perEntryErrorNumbers() {
		SeccompFilter.Builder b = x86().systemCallFilter("~mount:EACCES umount2 uname:kill reboot:0")
				.systemCallErrorNumber("EPERM");
		assertEquals(EACCES, run(b, "mount"));
		assertEquals(EPERM, run(b, "umount2"));
		assertEquals(KILL, run(b, "uname"));
		assertEquals(0x00050000, run(b, "reboot"));
		// in an allow list, ~name:ERRNO gives that call its own errno
		SeccompFilter.Builder a = x86().systemCallFilter("@system-service").systemCallFilter("~uname:EACCES")
				.systemCallErrorNumber("EPERM");
		assertEquals(EACCES, run(a, "uname"));
		assertEquals(EPERM, run(a, "mount"));
		// in a plain allow list, name:ERRNO is ignored (systemd warns)
		SeccompFilter.Builder i = x86().systemCallFilter("uname:EACCES read").systemCallErrorNumber("EPERM");
		assertEquals(EPERM, run(i, "uname"));
		assertEquals(ALLOW, run(i, "read"));
	}

	@Test
	void errorNumbers() {
		assertEquals(EACCES, run(x86().systemCallFilter("~mount").systemCallErrorNumber("EACCES"), "mount"));
		assertEquals(EACCES, run(x86().systemCallFilter("~mount").systemCallErrorNumber("13"), "mount"));
		assertEquals(0x00050000 | 4095, run(x86().systemCallFilter("~mount").systemCallErrorNumber("4095"), "mount"));
		assertEquals(KILL, run(x86().systemCallFilter("~mount").systemCallErrorNumber("kill"), "mount"));
		assertEquals(KILL, run(x86().systemCallFilter("~mount").systemCallErrorNumber("EPERM").systemCallErrorNumber(""),
				"mount"));
		assertEquals(LOG, run(x86().systemCallFilter("~mount").systemCallErrorNumber("log"), "mount"));
		assertEquals(LOG, run(x86().systemCallFilter("read").systemCallErrorNumber("log"), "mount"));
		assertEquals(ALLOW, run(x86().systemCallFilter("read").systemCallErrorNumber("log"), "read"));
		assertFalse(x86().systemCallErrorNumber("EPERM").any(), "SystemCallErrorNumber= alone filters nothing");
		for (String bad : List.of("EFOO", "0", "4096", "-1", "eperm", "1x")) {
			IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
					() -> x86().systemCallErrorNumber(bad));
			assertTrue(e.getMessage().startsWith("SystemCallErrorNumber=: "), e.getMessage());
			assertTrue(e.getMessage().contains(bad));
		}
	}

	@Test
	void badNames() {
		IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x86().systemCallFilter("read foo"));
		assertEquals("SystemCallFilter=: unknown system call \"foo\"", e.getMessage());
		e = assertThrows(IllegalArgumentException.class, () -> x86().systemCallFilter("~@nonsense"));
		assertEquals("SystemCallFilter=: unknown system call group \"@nonsense\"", e.getMessage());
		e = assertThrows(IllegalArgumentException.class, () -> x86().systemCallFilter("~mount:EFOO"));
		assertTrue(e.getMessage().startsWith("SystemCallFilter=: "), e.getMessage());
		assertTrue(e.getMessage().contains("EFOO"));
		assertThrows(IllegalArgumentException.class, () -> x86().systemCallFilter("~:EPERM"));
		// a failed assignment changes nothing
		SeccompFilter.Builder b = x86();
		assertThrows(IllegalArgumentException.class, () -> b.systemCallFilter("read foo"));
		assertFalse(b.any());
		// known, but not on this architecture: skipped
		SeccompFilter.Builder a = SeccompFilter.builder("aarch64").systemCallFilter("~open mount");
		assertEquals(KILL, run(a, AARCH64, nr("aarch64", "mount")));
		assertEquals(ALLOW, run(a, AARCH64, nr("aarch64", "openat")));
		x86().systemCallFilter("~getuid32 set_tls s390_runtime_instr"); // systemd's @known, on no table here
		assertThrows(IllegalArgumentException.class, () -> SeccompFilter.builder("i386"));
		assertThrows(IllegalArgumentException.class, () -> SeccompFilter.builder("amd64"));
	}

	@Test
	void forHost() {
		String os = System.getProperty("os.arch");
		if (os.equals("amd64") || os.equals("x86_64")) {
			assertEquals("x86_64", SeccompFilter.forHost().arch());
		} else if (os.equals("aarch64")) {
			assertEquals("aarch64", SeccompFilter.forHost().arch());
		}
	}

	@Test
	void architectures() {
		SeccompFilter.Builder b = x86().systemCallArchitectures("native");
		assertTrue(b.any());
		assertEquals(ALLOW, run(b, "read"));
		assertEquals(KILL, run(b, I386, 20));
		assertEquals(KILL, run(b, X86_64, 0x40000000 | nr("read")));
		assertEquals(KILL, run(b, X86_64, 0x40000000 | 512));
		assertEquals(KILL, run(b, AARCH64, 63));
		assertEquals(ALLOW, run(b, X86_64, -1));
		// with an allow list, native stays filtered
		b.systemCallFilter("@basic-io").systemCallErrorNumber("EPERM");
		assertEquals(EPERM, run(b, "mount"));
		assertEquals(KILL, run(b, I386, 3));
		// listed ABIs get the unfiltered action
		SeccompFilter.Builder x = x86().systemCallArchitectures("x86-64 x86").systemCallFilter("~@mount");
		assertEquals(ALLOW, run(x, I386, 21));
		assertEquals(KILL, run(x, X86_64, 0x40000000 | nr("read")));
		x.systemCallArchitectures("x32");
		assertEquals(ALLOW, run(x, X86_64, 0x40000000 | nr("read")));
		x.systemCallArchitectures("");
		assertFalse(x.systemCallFilter("").any());
		// aarch64
		SeccompFilter.Builder a = SeccompFilter.builder("aarch64").systemCallArchitectures("native");
		assertEquals(ALLOW, run(a, AARCH64, 63));
		assertEquals(KILL, run(a, ARM, 3));
		assertEquals(KILL, run(a, X86_64, 0));
		SeccompFilter.Builder arm = SeccompFilter.builder("aarch64").systemCallArchitectures("arm64 arm");
		assertEquals(ALLOW, run(arm, ARM, 3));
		IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
				() -> x86().systemCallArchitectures("native x86_64"));
		assertEquals("SystemCallArchitectures=: unknown architecture \"x86_64\"", e.getMessage());
	}

	@Test
	void addressFamilies() {
		SeccompFilter.Builder b = x86().restrictAddressFamilies("AF_UNIX");
		assertTrue(b.any());
		assertEquals(ALLOW, run(b, "socket", 1, 1, 0));
		assertEquals(EAFNOSUPPORT, run(b, "socket", 2, 1, 0));
		assertEquals(EAFNOSUPPORT, run(b, "socket", 10, 1, 0));
		assertEquals(EAFNOSUPPORT, run(b, "socket", 0, 1, 0));
		assertEquals(EAFNOSUPPORT, run(b, "socket", 0xffffffffL));
		assertEquals(EAFNOSUPPORT, run(b, "socket", 1L | 1L << 32), "high half must be 0");
		assertEquals(ALLOW, run(b, "socketpair", 2, 1, 0), "socketpair is not filtered");
		assertEquals(ALLOW, run(b, "read"));
		// merges
		b.restrictAddressFamilies("AF_INET AF_INET6");
		assertEquals(ALLOW, run(b, "socket", 2));
		assertEquals(ALLOW, run(b, "socket", 10));
		assertEquals(EAFNOSUPPORT, run(b, "socket", 16));
		b.restrictAddressFamilies("~AF_INET6");
		assertEquals(EAFNOSUPPORT, run(b, "socket", 10));
		// deny list
		SeccompFilter.Builder d = x86().restrictAddressFamilies("~AF_INET AF_INET6");
		assertEquals(EAFNOSUPPORT, run(d, "socket", 2));
		assertEquals(EAFNOSUPPORT, run(d, "socket", 10));
		assertEquals(EAFNOSUPPORT, run(d, "socket", 2L | 1L << 32), "the kernel truncates to int");
		assertEquals(ALLOW, run(d, "socket", 1));
		assertEquals(ALLOW, run(d, "socket", 16));
		// none; then a deny list starts afresh (systemd's quirk)
		SeccompFilter.Builder n = x86().restrictAddressFamilies("none");
		assertTrue(n.any());
		assertEquals(EAFNOSUPPORT, run(n, "socket", 1));
		n.restrictAddressFamilies("AF_UNIX");
		assertEquals(ALLOW, run(n, "socket", 1));
		assertEquals(EAFNOSUPPORT, run(n, "socket", 2));
		SeccompFilter.Builder q = x86().restrictAddressFamilies("none").restrictAddressFamilies("~AF_INET");
		assertEquals(ALLOW, run(q, "socket", 1));
		assertEquals(EAFNOSUPPORT, run(q, "socket", 2));
		// an allow list emptied by ~ refuses all
		SeccompFilter.Builder e = x86().restrictAddressFamilies("AF_UNIX").restrictAddressFamilies("~AF_UNIX");
		assertEquals(EAFNOSUPPORT, run(e, "socket", 1));
		// reset
		assertFalse(x86().restrictAddressFamilies("AF_UNIX").restrictAddressFamilies("").any());
		// aliases
		assertEquals(ALLOW, run(x86().restrictAddressFamilies("AF_LOCAL"), "socket", 1));
		// all of them, either way
		String all = String.join(" ", SyscallTables.addressFamilies().keySet());
		SeccompFilter.Builder everything = x86().restrictAddressFamilies(all);
		SeccompFilter.Builder nothing = x86().restrictAddressFamilies("~" + all);
		for (int af : SyscallTables.addressFamilies().values()) {
			assertEquals(ALLOW, run(everything, "socket", af));
			assertEquals(EAFNOSUPPORT, run(nothing, "socket", af));
		}
		assertEquals(EAFNOSUPPORT, run(everything, "socket", 0));
		assertEquals(EAFNOSUPPORT, run(everything, "socket", 46));
		assertEquals(ALLOW, run(nothing, "socket", 46));
		IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
				() -> x86().restrictAddressFamilies("AF_UNIX AF_FOO"));
		assertEquals("RestrictAddressFamilies=: unknown address family \"AF_FOO\"", ex.getMessage());
	}

	@Test
	void namespaces() {
		SeccompFilter.Builder b = x86().restrictNamespaces("yes");
		assertTrue(b.any());
		assertEquals(EPERM, run(b, "unshare", CLONE_NEWUSER));
		assertEquals(EPERM, run(b, "unshare", CLONE_NEWNS | CLONE_FILES));
		assertEquals(EPERM, run(b, "unshare", CLONE_NEWTIME));
		assertEquals(ALLOW, run(b, "unshare", CLONE_FILES));
		assertEquals(ALLOW, run(b, "clone", SIGCHLD));
		assertEquals(EPERM, run(b, "clone", CLONE_NEWNET | SIGCHLD));
		assertEquals(ENOSYS, run(b, "clone3"));
		assertEquals(EPERM, run(b, "setns", 3, 0));
		assertEquals(EPERM, run(b, "setns", 3, CLONE_NEWNET));
		assertEquals(ALLOW, run(b, "fork"));
		// some allowed
		SeccompFilter.Builder n = x86().restrictNamespaces("net mnt");
		assertEquals(ALLOW, run(n, "unshare", CLONE_NEWNET | CLONE_NEWNS));
		assertEquals(EPERM, run(n, "unshare", CLONE_NEWNET | CLONE_NEWUSER));
		assertEquals(ALLOW, run(n, "setns", 3, CLONE_NEWNET));
		assertEquals(EPERM, run(n, "setns", 3, CLONE_NEWUSER));
		assertEquals(EPERM, run(n, "setns", 3, 0));
		assertEquals(EPERM, run(n, "setns", 3, 1L << 32), "nstype is an int");
		assertEquals(ENOSYS, run(n, "clone3"));
		// inverted, and merged
		SeccompFilter.Builder u = x86().restrictNamespaces("~user");
		assertEquals(EPERM, run(u, "unshare", CLONE_NEWUSER));
		assertEquals(ALLOW, run(u, "unshare", CLONE_NEWNET));
		u.restrictNamespaces("user");
		assertEquals(ALLOW, run(u, "unshare", CLONE_NEWUSER));
		// all of systemd's NAMESPACE_FLAGS_ALL (which lacks time) retained: no filter at all, as in systemd
		assertFalse(u.any());
		assertEquals(ALLOW, run(u, "unshare", CLONE_NEWTIME));
		u.restrictNamespaces("~net");
		assertEquals(EPERM, run(u, "unshare", CLONE_NEWNET));
		assertEquals(EPERM, run(u, "unshare", CLONE_NEWTIME));
		assertEquals(ALLOW, run(u, "unshare", CLONE_NEWUSER));
		// off
		assertFalse(x86().restrictNamespaces("no").any());
		assertFalse(x86().restrictNamespaces("yes").restrictNamespaces("").any());
		assertFalse(x86().restrictNamespaces("cgroup ipc net mnt pid user uts").any());
		assertEquals(ALLOW, run(x86().restrictNamespaces("no").lockPersonality(true), "clone3"));
		// aarch64: clone's flags are args[0] as well
		SeccompFilter.Builder a = SeccompFilter.builder("aarch64").restrictNamespaces("yes");
		assertEquals(EPERM, run(a, AARCH64, nr("aarch64", "clone"), CLONE_NEWUSER | SIGCHLD));
		assertEquals(ALLOW, run(a, AARCH64, nr("aarch64", "clone"), SIGCHLD));
		assertEquals(ENOSYS, run(a, AARCH64, nr("aarch64", "clone3")));
		IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x86().restrictNamespaces("net foo"));
		assertEquals("RestrictNamespaces=: unknown namespace type \"foo\"", e.getMessage());
	}

	@Test
	void personality() {
		SeccompFilter.Builder b = x86().lockPersonality(true);
		assertTrue(b.any());
		assertEquals(ALLOW, run(b, "personality", 0));
		assertEquals(ALLOW, run(b, "personality", 0xffffffffL));
		assertEquals(EPERM, run(b, "personality", 8)); // PER_LINUX32
		assertEquals(EPERM, run(b, "personality", 0x0400000)); // READ_IMPLIES_EXEC
		assertEquals(EPERM, run(b, "personality", 1L << 32));
		assertEquals(EPERM, run(b, "personality", -1L));
	}

	@Test
	void realtime() {
		SeccompFilter.Builder b = x86().restrictRealtime(true);
		for (long ok : new long[] { 0, 3, 5 }) {
			assertEquals(ALLOW, run(b, "sched_setscheduler", 0, ok), "policy " + ok);
		}
		for (long no : new long[] { 1, 2, 4, 6, 7, 0x40000000L, 0x40000000L | 1, 1L << 32 }) {
			assertEquals(EPERM, run(b, "sched_setscheduler", 0, no), "policy " + no);
		}
		assertEquals(ALLOW, run(b, "sched_setattr", 0, 0), "as systemd 252, sched_setattr is not filtered");
	}

	@Test
	void memoryDenyWriteExecute() {
		SeccompFilter.Builder b = x86().memoryDenyWriteExecute(true);
		assertEquals(EPERM, run(b, "mmap", 0, 4096, 7, 0x22));
		assertEquals(EPERM, run(b, "mmap", 0, 4096, 6, 0x22));
		assertEquals(EPERM, run(b, "mmap", 0, 4096, 6L | 1L << 32, 0x22));
		assertEquals(ALLOW, run(b, "mmap", 0, 4096, 3, 0x22));
		assertEquals(ALLOW, run(b, "mmap", 0, 4096, 5, 0x22));
		assertEquals(EPERM, run(b, "mprotect", 0, 4096, 4));
		assertEquals(EPERM, run(b, "mprotect", 0, 4096, 5));
		assertEquals(ALLOW, run(b, "mprotect", 0, 4096, 3));
		assertEquals(EPERM, run(b, "pkey_mprotect", 0, 4096, 4, 1));
		assertEquals(ALLOW, run(b, "pkey_mprotect", 0, 4096, 1, 1));
		assertEquals(EPERM, run(b, "shmat", 1, 0, 0100000));
		assertEquals(ALLOW, run(b, "shmat", 1, 0, 010000));
		SeccompFilter.Builder a = SeccompFilter.builder("aarch64").memoryDenyWriteExecute(true);
		assertEquals(EPERM, run(a, AARCH64, nr("aarch64", "mmap"), 0, 4096, 6, 0x22));
		assertEquals(ALLOW, run(a, AARCH64, nr("aarch64", "mmap"), 0, 4096, 3, 0x22));
	}

	@Test
	void suidSgid() {
		SeccompFilter.Builder b = x86().restrictSuidSgid(true);
		assertEquals(EPERM, run(b, "chmod", 0, 04755));
		assertEquals(EPERM, run(b, "chmod", 0, 02755));
		assertEquals(ALLOW, run(b, "chmod", 0, 0755));
		assertEquals(EPERM, run(b, "fchmod", 3, 04000));
		assertEquals(EPERM, run(b, "fchmodat", -100, 0, 06000));
		assertEquals(ALLOW, run(b, "fchmodat", -100, 0, 01777));
		assertEquals(EPERM, run(b, "mkdir", 0, 02775));
		assertEquals(EPERM, run(b, "mkdirat", -100, 0, 02775));
		assertEquals(EPERM, run(b, "mknod", 0, 0104755, 0));
		assertEquals(EPERM, run(b, "mknodat", -100, 0, 0104755, 0));
		assertEquals(EPERM, run(b, "open", 0, 0101, 04755));
		assertEquals(ALLOW, run(b, "open", 0, 01, 04755), "without O_CREAT, the mode is unused");
		assertEquals(ALLOW, run(b, "open", 0, 0101, 0644));
		assertEquals(EPERM, run(b, "openat", -100, 0, 0101, 02755));
		assertEquals(ALLOW, run(b, "openat", -100, 0, 01, 02755));
		assertEquals(ENOSYS, run(b, "openat2", -100, 0, 0, 24));
		assertEquals(EPERM, run(b, "creat", 0, 04755));
		assertEquals(ALLOW, run(b, "creat", 0, 0755));
		assertEquals(ALLOW, run(b, "chown", 0, 0, 0));
	}

	@Test
	void protections() {
		SeccompFilter.Builder b = x86().protectClock(true);
		assertEquals(EPERM, run(b, "settimeofday"));
		assertEquals(EPERM, run(b, "clock_settime"));
		assertEquals(EPERM, run(b, "adjtimex"));
		assertEquals(ALLOW, run(b, "clock_gettime"));
		assertEquals(EPERM, run(x86().protectKernelModules(true), "init_module"));
		assertEquals(EPERM, run(x86().protectKernelModules(true), "finit_module"));
		assertEquals(EPERM, run(x86().protectKernelModules(true), "delete_module"));
		assertEquals(EPERM, run(x86().protectKernelLogs(true), "syslog"));
		assertEquals(EPERM, run(x86().protectKernelTunables(true), "_sysctl"));
		assertEquals(EPERM, run(x86().protectHostname(true), "sethostname"));
		assertEquals(EPERM, run(x86().protectHostname(true), "setdomainname"));
		assertEquals(EPERM, run(x86().privateDevices(true), "iopl"));
		assertEquals(EPERM, run(x86().privateDevices(true), "ioperm"));
		for (SeccompFilter.Builder on : List.of(x86().protectClock(true), x86().protectKernelModules(true),
				x86().protectKernelLogs(true), x86().protectKernelTunables(true), x86().protectHostname(true),
				x86().privateDevices(true), x86().memoryDenyWriteExecute(true), x86().restrictSuidSgid(true),
				x86().restrictRealtime(true))) {
			assertTrue(on.any());
			assertEquals(ALLOW, run(on, "read"));
			assertEquals(ALLOW, run(on, I386, 3));
		}
		assertFalse(x86().any());
		assertFalse(x86().protectClock(true).protectClock(false).any());
	}

	@Test
	void combinedAsTheKernelCombinesStackedFilters() {
		// an allow list naming @clock: ProtectClock= still refuses, with EPERM
		SeccompFilter.Builder a = x86().systemCallFilter("@system-service @clock").systemCallErrorNumber("EACCES")
				.protectClock(true);
		assertEquals(EPERM, run(a, "settimeofday"));
		assertEquals(ALLOW, run(a, "read"));
		assertEquals(EACCES, run(a, "mount"));
		// not in the allow list: SystemCallFilter= (installed last) wins the tie of two errnos
		SeccompFilter.Builder b = x86().systemCallFilter("@system-service").systemCallErrorNumber("EACCES")
				.protectClock(true);
		assertEquals(EACCES, run(b, "settimeofday"));
		// kill beats errno
		SeccompFilter.Builder k = x86().systemCallFilter("@system-service").protectClock(true).restrictNamespaces("yes");
		assertEquals(KILL, run(k, "settimeofday"));
		// conditional rules on allowed calls
		assertEquals(EPERM, run(k, "unshare", CLONE_NEWUSER));
		assertEquals(ALLOW, run(k, "unshare", CLONE_FILES));
		assertEquals(ENOSYS, run(k, "clone3"));
		// a deny list with log: errno of other directives beats log
		SeccompFilter.Builder l = x86().systemCallFilter("~@clock").systemCallErrorNumber("log").protectClock(true);
		assertEquals(EPERM, run(l, "settimeofday"));
		// a deny list with kill on a conditionally filtered call
		SeccompFilter.Builder d = x86().systemCallFilter("~unshare").restrictNamespaces("yes");
		assertEquals(KILL, run(d, "unshare", CLONE_FILES));
		// everything at once fits and is valid
		SeccompFilter.Builder all = x86().systemCallFilter("@system-service").systemCallFilter("~@privileged @resources")
				.systemCallErrorNumber("EPERM").systemCallArchitectures("native").restrictAddressFamilies("AF_UNIX AF_INET AF_INET6 AF_NETLINK")
				.restrictNamespaces("yes").lockPersonality(true).restrictRealtime(true).memoryDenyWriteExecute(true)
				.restrictSuidSgid(true).protectClock(true).protectKernelModules(true).protectKernelLogs(true)
				.protectKernelTunables(true).protectHostname(true).privateDevices(true);
		assertEquals(ALLOW, run(all, "socket", 2));
		assertEquals(EAFNOSUPPORT, run(all, "socket", 17));
		assertEquals(EPERM, run(all, "chown", 0, 0, 0));
		assertEquals(EPERM, run(all, "mmap", 0, 4096, 6, 0x22));
		assertEquals(ALLOW, run(all, "mmap", 0, 4096, 3, 0x22));
		assertEquals(KILL, run(all, I386, 3));
	}

	@Test
	void largestFiltersFitAndEveryPathIsValid() {
		for (String arch : List.of("x86_64", "aarch64")) {
			Map<String, Integer> table = SyscallTables.syscalls(arch);
			int audit = arch.equals("x86_64") ? X86_64 : AARCH64;
			for (SeccompFilter.Builder b : List.of(
					SeccompFilter.builder(arch).systemCallFilter("@known").systemCallErrorNumber("EPERM"),
					SeccompFilter.builder(arch).systemCallFilter("~@known").systemCallErrorNumber("EPERM"),
					SeccompFilter.builder(arch).systemCallFilter("@system-service").restrictNamespaces("yes")
							.restrictAddressFamilies("AF_UNIX AF_INET AF_INET6").memoryDenyWriteExecute(true)
							.restrictSuidSgid(true).lockPersonality(true).restrictRealtime(true))) {
				byte[] program = b.build();
				List<Bpf.Insn> p = Bpf.decode(program);
				validate(p);
				assertTrue(p.size() < 4096);
				assertEquals(p.size(), b.disassemble().lines().count());
				// every number, and random arguments, run to a return
				Random random = new Random(1);
				for (int nr = -1; nr < 1100; nr++) {
					BpfInterpreter.run(p, audit, nr, random.nextLong(), random.nextLong(), random.nextLong(),
							random.nextLong());
				}
			}
			// @known: every call of the table allowed, the rest refused
			Set<String> knownNames = SyscallGroups.of("@known");
			Set<String> defaults = SyscallGroups.of("@default");
			byte[] known = SeccompFilter.builder(arch).systemCallFilter("@known").systemCallErrorNumber("EPERM").build();
			byte[] notKnown = SeccompFilter.builder(arch).systemCallFilter("~@known").systemCallErrorNumber("EPERM")
					.build();
			for (Map.Entry<String, Integer> e : table.entrySet()) {
				boolean k = knownNames.contains(e.getKey()) || defaults.contains(e.getKey());
				assertEquals(k ? ALLOW : EPERM, BpfInterpreter.run(known, audit, e.getValue()), e.getKey());
				assertEquals(knownNames.contains(e.getKey()) ? EPERM : ALLOW,
						BpfInterpreter.run(notKnown, audit, e.getValue()), e.getKey());
			}
		}
	}

	@Test
	void lengthAndJumpLimits() {
		Bpf tooLong = new Bpf();
		for (int i = 0; i <= 4096; i++) {
			tooLong.ret(0x7fff0000, null);
		}
		IllegalStateException e = assertThrows(IllegalStateException.class, tooLong::assemble);
		assertTrue(e.getMessage().contains("4096"), e.getMessage());

		Bpf far = new Bpf();
		Bpf.Label target = far.label();
		far.ld(0, null);
		far.jump(Bpf.JEQ_K, 1, target, null, null);
		for (int i = 0; i < 256; i++) {
			far.ret(0, null);
		}
		far.bind(target);
		far.ret(0x7fff0000, null);
		assertThrows(IllegalStateException.class, far::assemble);

		Bpf near = new Bpf();
		Bpf.Label t2 = near.label();
		near.ld(0, null);
		near.jump(Bpf.JEQ_K, 1, t2, null, null);
		for (int i = 0; i < 255; i++) {
			near.ret(0, null);
		}
		near.bind(t2);
		near.ret(0x7fff0000, null);
		assertEquals(255, near.assemble().get(1).jt());
	}

	@Test
	void disassembly() {
		SeccompFilter.Builder b = x86().systemCallFilter("~mount").systemCallErrorNumber("EPERM")
				.restrictAddressFamilies("AF_UNIX");
		String text = b.disassemble();
		List<String> lines = text.lines().toList();
		assertEquals(b.build().length / 8, lines.size());
		assertTrue(lines.get(0).matches("\\s*0: ld +\\[4\\] +; arch"), lines.get(0));
		assertTrue(text.contains("; mount"), text);
		assertTrue(text.contains("; socket"), text);
		assertTrue(text.contains("ERRNO(EPERM)"), text);
		assertTrue(text.contains("ERRNO(EAFNOSUPPORT)"), text);
		assertTrue(text.contains("ALLOW"), text);
	}

	@Test
	void tables() {
		Map<String, Integer> x = SyscallTables.syscalls("x86_64");
		assertEquals(0, x.get("read"));
		assertEquals(59, x.get("execve"));
		assertEquals(165, x.get("mount"));
		assertEquals(435, x.get("clone3"));
		Map<String, Integer> a = SyscallTables.syscalls("aarch64");
		assertEquals(63, a.get("read"));
		assertEquals(221, a.get("execve"));
		assertEquals(25, a.get("fcntl"));
		assertEquals(79, a.get("newfstatat"));
		assertEquals(220, a.get("clone"));
		assertEquals(222, a.get("mmap"));
		assertFalse(a.containsKey("open"));
		assertFalse(a.containsKey("fcntl64"));
		assertEquals(1, SyscallTables.errnos().get("EPERM"));
		assertEquals(97, SyscallTables.errnos().get("EAFNOSUPPORT"));
		assertEquals(1, SyscallTables.addressFamilies().get("AF_UNIX"));
		assertEquals(10, SyscallTables.addressFamilies().get("AF_INET6"));
	}
}
