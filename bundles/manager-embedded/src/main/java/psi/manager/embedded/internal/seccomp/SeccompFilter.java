package psi.manager.embedded.internal.seccomp;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import psi.spi.unit.SyscallGroups;

/**
 * Compiles a unit's sandbox directives to one classic seccomp BPF program, the way systemd 252 filters them, for
 * {@code bwrap --seccomp FD} (which reads {@code struct sock_filter[]} from the fd and installs it).
 *
 * <h2>How it maps to systemd</h2>
 * systemd 252 ({@code exec_child()}) installs one filter a directive, in this order: ProtectHostname=,
 * RestrictAddressFamilies=, MemoryDenyWriteExecute=, RestrictRealtime=, RestrictSUIDSGID=, RestrictNamespaces=,
 * ProtectKernelTunables=, ProtectKernelModules=, ProtectKernelLogs=, ProtectClock=, PrivateDevices=,
 * SystemCallArchitectures=, LockPersonality=, SystemCallFilter= last. The kernel runs them all and takes the most
 * restrictive result (kill, then errno, then log, then allow); of two errno results, the later filter's. This class
 * computes that combined result a system call at compile time, so one program behaves as the stack would: e.g. with
 * {@code SystemCallErrorNumber=EACCES} a system call that both {@code ProtectClock=} and {@code SystemCallFilter=}
 * refuse fails with EACCES, and {@code ProtectClock=yes} refuses {@code settimeofday} with EPERM even when an allow
 * list names it.
 *
 * <p>
 * The program checks the architecture first, then (x86_64) the x32 bit of the number, then dispatches on the number
 * with a binary search ({@code jge} and {@code ja}, so no conditional jump is ever out of reach), then checks the
 * arguments where a directive filters on them.
 *
 * <h2>Choices where systemd's behaviour does not carry over as is</h2>
 * <ul>
 * <li>Other ABIs. systemd installs every filter for each of the host's ABIs (x86_64: x86-64, x86, x32; aarch64:
 * arm64, arm), with the numbers of each. Only the native tables ship here, so when {@code SystemCallArchitectures=}
 * is unset the other ABIs get the filter's default action instead: allowed when {@code SystemCallFilter=} is unset or
 * a deny list, refused with the filter's error number (or killed) when it is an allow list. Directives other than
 * {@code SystemCallFilter=} are then not enforced for 32-bit and x32 callers (systemd also skips
 * RestrictAddressFamilies= for x86, which multiplexes socketcall()); units that care set
 * {@code SystemCallArchitectures=native}, as systemd recommends. An ABI that {@code SystemCallArchitectures=} does not
 * list kills the process (SECCOMP_RET_KILL_PROCESS; libseccomp's default for a foreign architecture is the thread
 * kill, which is the same for a single thread). The x32 ABI is told apart by bit 0x40000000 of the number. Number -1,
 * which the kernel answers with ENOSYS without running anything, goes through the native dispatch and so gets the
 * default action (libseccomp counts it as x32).</li>
 * <li>Unknown names. systemd logs and ignores a system call name it cannot resolve or an unknown {@code @group};
 * here a name that is neither in systemd's {@code @known} nor in either table, or an unknown group, fails the setter.
 * Names known but absent on the target architecture are skipped, as systemd does.</li>
 * <li>{@code name:ERRNO} entries are honoured as systemd does: in a {@code ~} list they set that call's own error
 * number ({@code kill} kills); in a plain (allow) list systemd ignores such an entry with a warning, and so does this
 * class (silently).</li>
 * <li>{@code SystemCallErrorNumber=log} (SECCOMP_RET_LOG) is an extension; systemd 252 only knows errno names,
 * numbers and {@code kill}, which is also the default.</li>
 * <li>Argument checks. Where the kernel reads an argument as a 32-bit {@code int} (socket's family, setns's nstype,
 * mode and flag arguments) a refusal matches the low 32 bits only, so that garbage in the high half cannot slip past
 * a deny rule (libseccomp compares all 64 bits there). Where a call is allowed only for listed values
 * (RestrictAddressFamilies= allow lists, RestrictRealtime=, LockPersonality=) the high half must be zero, as with
 * libseccomp.</li>
 * <li>{@code LockPersonality=yes} allows {@code personality(PER_LINUX)} and the query {@code personality(0xffffffff)};
 * systemd 252 also refuses the query. PER_LINUX32 is never the locked personality here.</li>
 * <li>{@code RestrictRealtime=yes} filters {@code sched_setscheduler()} only (policies other than SCHED_OTHER,
 * SCHED_BATCH, SCHED_IDLE), as systemd 252 does; {@code sched_setattr()} passes its policy in a structure seccomp
 * cannot read and is not filtered.</li>
 * <li>{@code RestrictSUIDSGID=yes} also refuses {@code openat2()} with ENOSYS (systemd 252 built with libseccomp
 * &ge; 2.5, as on Debian 12) and {@code fchmodat2()} with S_ISUID or S_ISGID where the table has it.</li>
 * <li>{@code ProtectHostname=yes}: systemd 252 both unshares the UTS namespace (bubblewrap's {@code --unshare-uts},
 * not this class) and refuses {@code sethostname()}/{@code setdomainname()} with EPERM (this class, see
 * {@link Builder#protectHostname(boolean)}).</li>
 * </ul>
 */
public final class SeccompFilter {

	/** SECCOMP_RET_KILL_PROCESS */
	static final int RET_KILL_PROCESS = 0x80000000;
	/** SECCOMP_RET_ERRNO, the errno in the low 16 bits */
	static final int RET_ERRNO = 0x00050000;
	/** SECCOMP_RET_LOG */
	static final int RET_LOG = 0x7ffc0000;
	/** SECCOMP_RET_ALLOW */
	static final int RET_ALLOW = 0x7fff0000;

	static final int AUDIT_ARCH_X86_64 = 0xc000003e;
	static final int AUDIT_ARCH_I386 = 0x40000003;
	static final int AUDIT_ARCH_AARCH64 = 0xc00000b7;
	static final int AUDIT_ARCH_ARM = 0x40000028;
	static final int X32_SYSCALL_BIT = 0x40000000;

	/** offsets in struct seccomp_data {int nr; u32 arch; u64 ip; u64 args[6];} (little-endian) */
	static final int OFFSET_NR = 0;
	static final int OFFSET_ARCH = 4;

	static int argLow(int i) {
		return 16 + 8 * i;
	}

	static int argHigh(int i) {
		return 20 + 8 * i;
	}

	private static final int EPERM = 1;
	private static final int ENOSYS = 38;
	private static final int EAFNOSUPPORT = 97;

	/** error numbers of SystemCallFilter= entries and SystemCallErrorNumber=, as systemd keeps them */
	private static final int ERRNO_DEFAULT = -1;
	private static final int ERRNO_KILL = Integer.MAX_VALUE - 1;
	private static final int ERRNO_LOG = Integer.MAX_VALUE - 2;
	private static final int ERRNO_MAX = 4095;

	private static final long CLONE_NEWTIME = 0x00000080L;
	private static final long CLONE_NEWNS = 0x00020000L;
	private static final long CLONE_NEWCGROUP = 0x02000000L;
	private static final long CLONE_NEWUTS = 0x04000000L;
	private static final long CLONE_NEWIPC = 0x08000000L;
	private static final long CLONE_NEWUSER = 0x10000000L;
	private static final long CLONE_NEWPID = 0x20000000L;
	private static final long CLONE_NEWNET = 0x40000000L;
	/** systemd's NAMESPACE_FLAGS_ALL (without CLONE_NEWTIME) */
	private static final long NAMESPACE_FLAGS_ALL = CLONE_NEWCGROUP | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS
			| CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWUTS;
	/** systemd's NAMESPACE_FLAGS_INITIAL (ULONG_MAX): RestrictNamespaces= unset */
	private static final long NAMESPACE_FLAGS_INITIAL = -1L;
	/** systemd's namespace_info[], in its order */
	private static final Map<String, Long> NAMESPACES = new LinkedHashMap<>();
	static {
		NAMESPACES.put("cgroup", CLONE_NEWCGROUP);
		NAMESPACES.put("ipc", CLONE_NEWIPC);
		NAMESPACES.put("net", CLONE_NEWNET);
		NAMESPACES.put("mnt", CLONE_NEWNS);
		NAMESPACES.put("pid", CLONE_NEWPID);
		NAMESPACES.put("user", CLONE_NEWUSER);
		NAMESPACES.put("uts", CLONE_NEWUTS);
		NAMESPACES.put("time", CLONE_NEWTIME);
	}

	private static final int PROT_WRITE = 0x2;
	private static final int PROT_EXEC = 0x4;
	private static final int SHM_EXEC = 0100000;
	private static final int S_ISUID = 04000;
	private static final int S_ISGID = 02000;
	private static final int O_CREAT = 0100; // x86_64 and the generic (aarch64) value
	private static final int PER_LINUX = 0;
	private static final int PERSONALITY_QUERY = 0xffffffff;
	private static final int SCHED_OTHER = 0;
	private static final int SCHED_BATCH = 3;
	private static final int SCHED_IDLE = 5;

	/** systemd's seccomp_arch_from_string() names */
	private static final Set<String> SYSTEMD_ARCHS = Set.of("native", "x86", "x86-64", "x32", "arm", "arm64", "mips",
			"mips64", "mips64-n32", "mips-le", "mips64-le", "mips64-le-n32", "parisc", "parisc64", "ppc", "ppc64",
			"ppc64-le", "riscv64", "s390", "s390x");

	/** the order in which systemd 252's exec_child() installs the filters; SystemCallFilter= comes last */
	private static final int ORDER_HOSTNAME = 0;
	private static final int ORDER_ADDRESS_FAMILIES = 1;
	private static final int ORDER_MEMORY_DENY_WRITE_EXECUTE = 2;
	private static final int ORDER_REALTIME = 3;
	private static final int ORDER_SUID_SGID = 4;
	private static final int ORDER_NAMESPACES = 5;
	private static final int ORDER_SYSCTL = 6;
	private static final int ORDER_MODULES = 7;
	private static final int ORDER_SYSLOG = 8;
	private static final int ORDER_CLOCK = 9;
	private static final int ORDER_RAW_IO = 10;
	private static final int ORDER_PERSONALITY = 12;

	/** system calls a leaf of the dispatch tree compares one after the other */
	private static final int LEAF = 6;

	/** the architectures a program can be compiled for */
	enum Arch {
		X86_64("x86_64", "x86-64", AUDIT_ARCH_X86_64, "x86", AUDIT_ARCH_I386, true),
		AARCH64("aarch64", "arm64", AUDIT_ARCH_AARCH64, "arm", AUDIT_ARCH_ARM, false);

		final String name;
		final String systemdName;
		final int audit;
		final String compatName;
		final int compatAudit;
		final boolean x32;

		Arch(String name, String systemdName, int audit, String compatName, int compatAudit, boolean x32) {
			this.name = name;
			this.systemdName = systemdName;
			this.audit = audit;
			this.compatName = compatName;
			this.compatAudit = compatAudit;
			this.x32 = x32;
		}
	}

	private SeccompFilter() {
	}

	/**
	 * @param arch "x86_64" or "aarch64"
	 * @throws IllegalArgumentException otherwise
	 */
	public static Builder builder(String arch) {
		for (Arch a : Arch.values()) {
			if (a.name.equals(arch)) {
				return new Builder(a);
			}
		}
		throw new IllegalArgumentException("seccomp: unsupported architecture \"" + arch + "\" (x86_64 or aarch64)");
	}

	/** the host's: from System.getProperty("os.arch") ("amd64"/"x86_64" -> x86_64, "aarch64") */
	public static Builder forHost() {
		String os = System.getProperty("os.arch", "");
		return builder(switch (os) {
		case "amd64", "x86_64" -> "x86_64";
		case "aarch64", "arm64" -> "aarch64";
		default -> os;
		});
	}

	/** a unit's sandbox directives, to compile */
	public static final class Builder {

		private final Arch arch;

		/** system call name to error number (ERRNO_*), null when SystemCallFilter= is unset */
		private Map<String, Integer> syscallFilter;
		private boolean syscallAllowList;
		private int syscallErrno = ERRNO_KILL;
		/** systemd architecture names, null when unset */
		private Set<String> archs;
		/** null: none listed (but see afAllowList, as systemd) */
		private Set<Integer> addressFamilies;
		private boolean addressFamiliesAllowList;
		private long restrictNamespaces = NAMESPACE_FLAGS_INITIAL;
		private boolean lockPersonality;
		private boolean restrictRealtime;
		private boolean memoryDenyWriteExecute;
		private boolean restrictSuidSgid;
		private boolean protectClock;
		private boolean protectKernelModules;
		private boolean protectKernelLogs;
		private boolean protectKernelTunables;
		private boolean protectHostname;
		private boolean privateDevices;

		Builder(Arch arch) {
			this.arch = arch;
		}

		/** @return "x86_64" or "aarch64" */
		public String arch() {
			return arch.name;
		}

		/**
		 * One {@code SystemCallFilter=} assignment's raw value, in unit order; "" resets.
		 *
		 * @throws IllegalArgumentException for an unknown system call or group, or a bad {@code :ERRNO}
		 */
		public Builder systemCallFilter(String value) {
			String v = Objects.requireNonNull(value, "value").strip();
			if (v.isEmpty()) {
				syscallFilter = null;
				syscallAllowList = false;
				return this;
			}
			boolean invert = v.startsWith("~");
			if (invert) {
				v = v.substring(1);
			}
			// validate the whole assignment before changing anything
			List<String> names = new ArrayList<>();
			List<Integer> errnos = new ArrayList<>();
			for (String word : words(v)) {
				int colon = word.indexOf(':');
				String name = colon < 0 ? word : word.substring(0, colon);
				int errno = ERRNO_DEFAULT;
				if (colon >= 0) {
					String e = word.substring(colon + 1);
					errno = "kill".equals(e) ? ERRNO_KILL : parseErrno(e);
					if (errno < 0) {
						throw bad("SystemCallFilter", "bad error number \"" + e + "\" in \"" + word + "\"");
					}
				}
				if (name.isEmpty()) {
					throw bad("SystemCallFilter", "no system call in \"" + word + "\"");
				}
				expand(name);
				names.add(name);
				errnos.add(errno);
			}
			if (syscallFilter == null) {
				syscallFilter = new LinkedHashMap<>();
				syscallAllowList = !invert;
				if (syscallAllowList) {
					for (String s : SyscallGroups.of("@default")) {
						syscallFilter.put(s, ERRNO_DEFAULT);
					}
				}
			}
			for (int i = 0; i < names.size(); i++) {
				int errno = errnos.get(i);
				if (!invert && errno != ERRNO_DEFAULT) {
					continue; // systemd: "Allow-listed system calls cannot take error number, ignoring"
				}
				for (String s : expand(names.get(i))) {
					if (!invert == syscallAllowList || invert && syscallAllowList && errno != ERRNO_DEFAULT) {
						syscallFilter.put(s, errno);
					} else {
						syscallFilter.remove(s);
					}
				}
			}
			return this;
		}

		private static Set<String> expand(String name) {
			if (name.startsWith("@")) {
				Set<String> members = SyscallGroups.of(name);
				if (members.contains(name)) {
					throw bad("SystemCallFilter", "unknown system call group \"" + name + "\"");
				}
				return members;
			}
			if (!SyscallTables.known().contains(name)) {
				throw bad("SystemCallFilter", "unknown system call \"" + name + "\"");
			}
			return Set.of(name);
		}

		/**
		 * {@code SystemCallErrorNumber=}: an errno name or number, {@code kill} (the default, also for ""), or
		 * {@code log}.
		 */
		public Builder systemCallErrorNumber(String value) {
			String v = Objects.requireNonNull(value, "value").strip();
			if (v.isEmpty() || v.equals("kill")) {
				syscallErrno = ERRNO_KILL;
			} else if (v.equals("log")) {
				syscallErrno = ERRNO_LOG;
			} else {
				int e = parseErrno(v);
				if (e <= 0) {
					throw bad("SystemCallErrorNumber", "bad error number \"" + v + "\"");
				}
				syscallErrno = e;
			}
			return this;
		}

		/** {@code SystemCallArchitectures=}: "" resets, "native", or systemd's architecture names */
		public Builder systemCallArchitectures(String value) {
			String v = Objects.requireNonNull(value, "value").strip();
			if (v.isEmpty()) {
				archs = null;
				return this;
			}
			List<String> names = words(v);
			for (String name : names) {
				if (!SYSTEMD_ARCHS.contains(name)) {
					throw bad("SystemCallArchitectures", "unknown architecture \"" + name + "\"");
				}
			}
			if (archs == null) {
				archs = new LinkedHashSet<>();
			}
			archs.addAll(names);
			return this;
		}

		/** one {@code RestrictAddressFamilies=} assignment; "" resets, "none" forbids all, "~" starts a deny list */
		public Builder restrictAddressFamilies(String value) {
			String v = Objects.requireNonNull(value, "value").strip();
			if (v.isEmpty()) {
				addressFamilies = null;
				addressFamiliesAllowList = false;
				return this;
			}
			if (v.equals("none")) {
				addressFamilies = null;
				addressFamiliesAllowList = true;
				return this;
			}
			boolean invert = v.startsWith("~");
			if (invert) {
				v = v.substring(1);
			}
			List<Integer> afs = new ArrayList<>();
			for (String word : words(v)) {
				Integer af = SyscallTables.addressFamilies().get(word);
				if (af == null) {
					throw bad("RestrictAddressFamilies", "unknown address family \"" + word + "\"");
				}
				afs.add(af);
			}
			if (addressFamilies == null) {
				addressFamilies = new TreeSet<>();
				addressFamiliesAllowList = !invert;
			}
			for (int af : afs) {
				if (!invert == addressFamiliesAllowList) {
					addressFamilies.add(af);
				} else {
					addressFamilies.remove(af);
				}
			}
			return this;
		}

		/** {@code RestrictNamespaces=}: a boolean, or namespace types ("~" inverts); "" resets */
		public Builder restrictNamespaces(String value) {
			String v = Objects.requireNonNull(value, "value").strip();
			if (v.isEmpty()) {
				restrictNamespaces = NAMESPACE_FLAGS_INITIAL;
				return this;
			}
			Boolean b = parseBoolean(v);
			if (b != null) {
				restrictNamespaces = b ? 0 : NAMESPACE_FLAGS_ALL;
				return this;
			}
			boolean invert = v.startsWith("~");
			if (invert) {
				v = v.substring(1);
			}
			long flags = 0;
			for (String word : words(v)) {
				Long f = NAMESPACES.get(word);
				if (f == null) {
					throw bad("RestrictNamespaces", "unknown namespace type \"" + word + "\"");
				}
				flags |= f;
			}
			if (restrictNamespaces == NAMESPACE_FLAGS_INITIAL) {
				restrictNamespaces = invert ? ~flags & NAMESPACE_FLAGS_ALL : flags;
			} else if (invert) {
				restrictNamespaces &= ~flags;
			} else {
				restrictNamespaces |= flags;
			}
			return this;
		}

		/** {@code LockPersonality=} */
		public Builder lockPersonality(boolean on) {
			lockPersonality = on;
			return this;
		}

		/** {@code RestrictRealtime=} */
		public Builder restrictRealtime(boolean on) {
			restrictRealtime = on;
			return this;
		}

		/** {@code MemoryDenyWriteExecute=} */
		public Builder memoryDenyWriteExecute(boolean on) {
			memoryDenyWriteExecute = on;
			return this;
		}

		/** {@code RestrictSUIDSGID=} */
		public Builder restrictSuidSgid(boolean on) {
			restrictSuidSgid = on;
			return this;
		}

		/** {@code ProtectClock=}: refuses {@code @clock} with EPERM */
		public Builder protectClock(boolean on) {
			protectClock = on;
			return this;
		}

		/** {@code ProtectKernelModules=}: refuses {@code @module} with EPERM */
		public Builder protectKernelModules(boolean on) {
			protectKernelModules = on;
			return this;
		}

		/** {@code ProtectKernelLogs=}: refuses {@code syslog()} with EPERM */
		public Builder protectKernelLogs(boolean on) {
			protectKernelLogs = on;
			return this;
		}

		/**
		 * {@code ProtectKernelTunables=}, its seccomp part: refuses {@code _sysctl()} with EPERM (x86_64; aarch64 has
		 * none). The read-only /proc and /sys are the sandbox's business.
		 */
		public Builder protectKernelTunables(boolean on) {
			protectKernelTunables = on;
			return this;
		}

		/**
		 * {@code ProtectHostname=}, its seccomp part: refuses {@code sethostname()} and {@code setdomainname()} with
		 * EPERM. The UTS namespace is the sandbox's business.
		 */
		public Builder protectHostname(boolean on) {
			protectHostname = on;
			return this;
		}

		/** {@code PrivateDevices=}, its seccomp part: refuses {@code @raw-io} with EPERM */
		public Builder privateDevices(boolean on) {
			privateDevices = on;
			return this;
		}

		/** @return whether any directive asks for filtering */
		public boolean any() {
			return hasSyscallFilter() || archs != null || hasAddressFamilies() || hasNamespaces() || lockPersonality
					|| restrictRealtime || memoryDenyWriteExecute || restrictSuidSgid || protectClock
					|| protectKernelModules || protectKernelLogs || protectKernelTunables || protectHostname
					|| privateDevices;
		}

		/**
		 * @return the program, struct sock_filter[] as bytes, little-endian
		 * @throws IllegalStateException if it is longer than the kernel takes (4096 instructions)
		 */
		public byte[] build() {
			return Bpf.bytes(compile());
		}

		/** @return the program as readable text, one instruction per line (for tests and `psi status --debug`) */
		public String disassemble() {
			return Bpf.text(compile());
		}

		private boolean hasSyscallFilter() {
			return syscallFilter != null && (syscallAllowList || !syscallFilter.isEmpty());
		}

		private boolean hasAddressFamilies() {
			return addressFamiliesAllowList || addressFamilies != null && !addressFamilies.isEmpty();
		}

		private boolean hasNamespaces() {
			return (restrictNamespaces & NAMESPACE_FLAGS_ALL) != NAMESPACE_FLAGS_ALL;
		}

		// ---- compiling

		List<Bpf.Insn> compile() {
			Map<String, Integer> table = SyscallTables.syscalls(arch.name);
			boolean filter = hasSyscallFilter();
			int negative = switch (syscallErrno) {
			case ERRNO_KILL -> RET_KILL_PROCESS;
			case ERRNO_LOG -> RET_LOG;
			default -> RET_ERRNO | syscallErrno;
			};
			int fallback = filter && syscallAllowList ? negative : RET_ALLOW;

			// SystemCallFilter=: one action a listed system call
			Map<Integer, Integer> listed = new TreeMap<>();
			if (filter) {
				for (Map.Entry<String, Integer> e : syscallFilter.entrySet()) {
					Integer nr = table.get(e.getKey());
					if (nr == null) {
						continue; // not on this architecture
					}
					int errno = e.getValue();
					listed.put(nr, errno == ERRNO_DEFAULT ? (syscallAllowList ? RET_ALLOW : negative)
							: errno == ERRNO_KILL ? RET_KILL_PROCESS : RET_ERRNO | errno);
				}
			}
			// the other directives
			Map<Integer, List<Rule>> rules = new TreeMap<>();
			rules(table, rules);

			// what the stack of filters returns, a system call
			List<Entry> entries = new ArrayList<>();
			Set<Integer> nrs = new TreeSet<>(listed.keySet());
			nrs.addAll(rules.keySet());
			for (int nr : nrs) {
				int last = listed.getOrDefault(nr, fallback);
				List<Rule> stronger = new ArrayList<>();
				for (Rule r : rules.getOrDefault(nr, List.of())) {
					if (precedence(r.action) < precedence(last)) {
						stronger.add(r);
					}
				}
				stronger.sort(Comparator.comparingInt((Rule r) -> precedence(r.action))
						.thenComparing(Comparator.comparingInt((Rule r) -> r.order).reversed()));
				for (int i = 0; i < stronger.size(); i++) {
					if (stronger.get(i).always()) {
						stronger.subList(i + 1, stronger.size()).clear();
						break;
					}
				}
				if (stronger.isEmpty() && last == fallback) {
					continue;
				}
				entries.add(new Entry(nr, stronger, last));
			}

			// other ABIs
			int unfiltered = fallback;
			int compat = archs == null || archs.contains(arch.compatName) ? unfiltered : RET_KILL_PROCESS;
			int x32 = archs == null || archs.contains("x32") ? unfiltered : RET_KILL_PROCESS;
			int other = archs == null ? unfiltered : RET_KILL_PROCESS;

			Bpf bpf = new Bpf();
			Names names = new Names(table);
			bpf.ld(OFFSET_ARCH, "arch");
			Bpf.Label nativeArch = bpf.label();
			bpf.jump(Bpf.JEQ_K, arch.audit, nativeArch, null, arch.name);
			Bpf.Label notCompat = bpf.label();
			bpf.jump(Bpf.JEQ_K, arch.compatAudit, null, notCompat, arch.compatName);
			bpf.ret(compat, names.action(compat) + " (" + arch.compatName + ")");
			bpf.bind(notCompat);
			bpf.ret(other, names.action(other) + " (other architectures)");
			bpf.bind(nativeArch);
			bpf.ld(OFFSET_NR, "nr");
			if (arch.x32) {
				Bpf.Label dispatch = bpf.label();
				bpf.jump(Bpf.JGE_K, X32_SYSCALL_BIT, null, dispatch, "x32 bit?");
				bpf.jump(Bpf.JEQ_K, 0xffffffff, dispatch, null, "nr -1");
				bpf.ret(x32, names.action(x32) + " (x32)");
				bpf.bind(dispatch);
			}
			tree(bpf, names, entries, 0, entries.size(), fallback);
			return bpf.assemble();
		}

		/** the rules of the directives other than SystemCallFilter=, by system call number */
		private void rules(Map<String, Integer> t, Map<Integer, List<Rule>> out) {
			int eperm = RET_ERRNO | EPERM;
			if (protectHostname) {
				add(t, out, "sethostname", ORDER_HOSTNAME, eperm);
				add(t, out, "setdomainname", ORDER_HOSTNAME, eperm);
			}
			if (hasAddressFamilies()) {
				int refuse = RET_ERRNO | EAFNOSUPPORT;
				Set<Integer> afs = addressFamilies == null ? Set.of() : addressFamilies;
				if (addressFamiliesAllowList) {
					int max = 0;
					for (int af : SyscallTables.addressFamilies().values()) {
						max = Math.max(max, af + 1); // af_max()
					}
					List<Integer> valid = new ArrayList<>();
					for (int af : afs) {
						if (af > 0 && af < max) {
							valid.add(af);
						}
					}
					if (valid.isEmpty()) {
						add(t, out, "socket", ORDER_ADDRESS_FAMILIES, refuse);
					} else {
						add(t, out, "socket", ORDER_ADDRESS_FAMILIES, refuse,
								List.of(Test.highNonZero(0)), List.of(Test.lowNotIn(0, ints(valid))));
					}
				} else {
					add(t, out, "socket", ORDER_ADDRESS_FAMILIES, refuse, List.of(Test.lowIn(0, ints(afs))));
				}
			}
			if (memoryDenyWriteExecute) {
				int order = ORDER_MEMORY_DENY_WRITE_EXECUTE;
				add(t, out, "mmap", order, eperm, List.of(Test.masked(2, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC)));
				add(t, out, "mprotect", order, eperm, List.of(Test.masked(2, PROT_EXEC, PROT_EXEC)));
				add(t, out, "pkey_mprotect", order, eperm, List.of(Test.masked(2, PROT_EXEC, PROT_EXEC)));
				add(t, out, "shmat", order, eperm, List.of(Test.masked(2, SHM_EXEC, SHM_EXEC)));
			}
			if (restrictRealtime) {
				add(t, out, "sched_setscheduler", ORDER_REALTIME, eperm, List.of(Test.highNonZero(1)),
						List.of(Test.lowNotIn(1, SCHED_OTHER, SCHED_BATCH, SCHED_IDLE)));
			}
			if (restrictSuidSgid) {
				int order = ORDER_SUID_SGID;
				int sxid = S_ISUID | S_ISGID;
				add(t, out, "chmod", order, eperm, List.of(Test.anyBit(1, sxid)));
				add(t, out, "fchmod", order, eperm, List.of(Test.anyBit(1, sxid)));
				add(t, out, "fchmodat", order, eperm, List.of(Test.anyBit(2, sxid)));
				add(t, out, "fchmodat2", order, eperm, List.of(Test.anyBit(2, sxid)));
				add(t, out, "mkdir", order, eperm, List.of(Test.anyBit(1, sxid)));
				add(t, out, "mkdirat", order, eperm, List.of(Test.anyBit(2, sxid)));
				add(t, out, "mknod", order, eperm, List.of(Test.anyBit(1, sxid)));
				add(t, out, "mknodat", order, eperm, List.of(Test.anyBit(2, sxid)));
				add(t, out, "open", order, eperm, List.of(Test.anyBit(1, O_CREAT), Test.anyBit(2, sxid)));
				add(t, out, "openat", order, eperm, List.of(Test.anyBit(2, O_CREAT), Test.anyBit(3, sxid)));
				add(t, out, "openat2", order, RET_ERRNO | ENOSYS);
				add(t, out, "creat", order, eperm, List.of(Test.anyBit(1, sxid)));
			}
			if (hasNamespaces()) {
				int order = ORDER_NAMESPACES;
				long retain = restrictNamespaces;
				add(t, out, "clone3", order, RET_ERRNO | ENOSYS);
				long blocked = 0;
				for (long f : NAMESPACES.values()) {
					if ((retain & f) != f) {
						blocked |= f;
					}
				}
				add(t, out, "unshare", order, eperm, List.of(Test.anyBit(0, (int) blocked)));
				add(t, out, "clone", order, eperm, List.of(Test.anyBit(0, (int) blocked))); // flags: args[0] on both
				if ((retain & NAMESPACE_FLAGS_ALL) == 0) {
					add(t, out, "setns", order, eperm);
				} else {
					add(t, out, "setns", order, eperm, List.of(Test.masked(1, 0xffffffff, 0)),
							List.of(Test.anyBit(1, (int) blocked)));
				}
			}
			if (protectKernelTunables) {
				add(t, out, "_sysctl", ORDER_SYSCTL, eperm);
			}
			if (protectKernelModules) {
				for (String s : SyscallGroups.of("@module")) {
					add(t, out, s, ORDER_MODULES, eperm);
				}
			}
			if (protectKernelLogs) {
				add(t, out, "syslog", ORDER_SYSLOG, eperm);
			}
			if (protectClock) {
				for (String s : SyscallGroups.of("@clock")) {
					add(t, out, s, ORDER_CLOCK, eperm);
				}
			}
			if (privateDevices) {
				for (String s : SyscallGroups.of("@raw-io")) {
					add(t, out, s, ORDER_RAW_IO, eperm);
				}
			}
			if (lockPersonality) {
				add(t, out, "personality", ORDER_PERSONALITY, eperm, List.of(Test.highNonZero(0)),
						List.of(Test.lowNotIn(0, PER_LINUX, PERSONALITY_QUERY)));
			}
		}

		/** a rule: this action when any of the conjunctions holds (always, without any) */
		@SafeVarargs
		private static void add(Map<String, Integer> table, Map<Integer, List<Rule>> out, String syscall, int order,
				int action, List<Test>... anyOf) {
			Integer nr = table.get(syscall);
			if (nr != null) {
				out.computeIfAbsent(nr, k -> new ArrayList<>()).add(new Rule(order, action, List.of(anyOf)));
			}
		}

		private static int[] ints(Iterable<Integer> values) {
			List<Integer> l = new ArrayList<>();
			values.forEach(l::add);
			return l.stream().mapToInt(Integer::intValue).toArray();
		}

		private static void tree(Bpf bpf, Names names, List<Entry> entries, int from, int to, int fallback) {
			if (to - from <= LEAF) {
				for (int i = from; i < to; i++) {
					entry(bpf, names, entries.get(i));
				}
				bpf.ret(fallback, names.action(fallback) + " (default)");
				return;
			}
			int mid = (from + to) >>> 1;
			Bpf.Label left = bpf.label();
			Bpf.Label right = bpf.label();
			bpf.jump(Bpf.JGE_K, entries.get(mid).nr, null, left, ">= " + names.syscall(entries.get(mid).nr) + "?");
			bpf.ja(right);
			bpf.bind(left);
			tree(bpf, names, entries, from, mid, fallback);
			bpf.bind(right);
			tree(bpf, names, entries, mid, to, fallback);
		}

		private static void entry(Bpf bpf, Names names, Entry e) {
			Bpf.Label next = bpf.label();
			if (e.rules.isEmpty() || e.rules.get(0).always()) {
				int action = e.rules.isEmpty() ? e.last : e.rules.get(0).action;
				bpf.jump(Bpf.JEQ_K, e.nr, null, next, names.syscall(e.nr));
				bpf.ret(action, names.action(action));
			} else {
				Bpf.Label body = bpf.label();
				bpf.jump(Bpf.JEQ_K, e.nr, body, null, names.syscall(e.nr));
				bpf.ja(next);
				bpf.bind(body);
				block(bpf, names, e);
			}
			bpf.bind(next);
		}

		/** the rules of one system call; every path ends in a return */
		private static void block(Bpf bpf, Names names, Entry e) {
			for (Rule r : e.rules) {
				if (r.always()) {
					bpf.ret(r.action, names.action(r.action));
					return;
				}
				for (List<Test> all : r.anyOf) {
					Bpf.Label fail = bpf.label();
					int loaded = -1;
					for (Test test : all) {
						loaded = test.emit(bpf, fail, loaded);
					}
					bpf.ret(r.action, names.action(r.action));
					bpf.bind(fail);
				}
			}
			bpf.ret(e.last, names.action(e.last));
		}
	}

	/** kernel precedence of a return value: lower is more restrictive (ACTION_ONLY(), signed) */
	static int precedence(int ret) {
		return ret & 0xffff0000;
	}

	private record Entry(int nr, List<Rule> rules, int last) {
	}

	private record Rule(int order, int action, List<List<Test>> anyOf) {
		boolean always() {
			return anyOf.isEmpty();
		}
	}

	/** one check of an argument, true or jumps to fail */
	private record Test(Kind kind, int arg, int mask, int value, int[] set) {

		enum Kind {
			/** (low & mask) == value */
			MASKED,
			/** (low & mask) != 0 */
			ANY_BIT,
			/** high != 0 */
			HIGH_NON_ZERO,
			/** low is one of set */
			LOW_IN,
			/** low is none of set */
			LOW_NOT_IN
		}

		static Test masked(int arg, int mask, int value) {
			return new Test(Kind.MASKED, arg, mask, value, null);
		}

		static Test anyBit(int arg, int mask) {
			return new Test(Kind.ANY_BIT, arg, mask, 0, null);
		}

		static Test highNonZero(int arg) {
			return new Test(Kind.HIGH_NON_ZERO, arg, 0, 0, null);
		}

		static Test lowIn(int arg, int... set) {
			return new Test(Kind.LOW_IN, arg, 0, 0, set);
		}

		static Test lowNotIn(int arg, int... set) {
			return new Test(Kind.LOW_NOT_IN, arg, 0, 0, set);
		}

		/** @return the offset A holds afterwards, or -1 */
		int emit(Bpf bpf, Bpf.Label fail, int loaded) {
			int low = argLow(arg);
			int offset = kind == Kind.HIGH_NON_ZERO ? argHigh(arg) : low;
			if (loaded != offset) {
				bpf.ld(offset, "args[" + arg + "] " + (offset == low ? "low" : "high"));
			}
			switch (kind) {
			case MASKED -> {
				if (mask == 0xffffffff) {
					bpf.jump(Bpf.JEQ_K, value, null, fail, null);
				} else if (value == 0) {
					bpf.jump(Bpf.JSET_K, mask, fail, null, null);
				} else if (mask == value && Integer.bitCount(mask) == 1) {
					bpf.jump(Bpf.JSET_K, mask, null, fail, null);
				} else {
					bpf.and(mask);
					bpf.jump(Bpf.JEQ_K, value & mask, null, fail, null);
					return -1;
				}
			}
			case ANY_BIT -> bpf.jump(Bpf.JSET_K, mask, null, fail, null);
			case HIGH_NON_ZERO -> bpf.jump(Bpf.JEQ_K, 0, fail, null, null);
			case LOW_IN -> {
				Bpf.Label pass = bpf.label();
				for (int i = 0; i < set.length - 1; i++) {
					bpf.jump(Bpf.JEQ_K, set[i], pass, null, null);
				}
				bpf.jump(Bpf.JEQ_K, set[set.length - 1], null, fail, null);
				bpf.bind(pass);
			}
			case LOW_NOT_IN -> {
				for (int v : set) {
					bpf.jump(Bpf.JEQ_K, v, fail, null, null);
				}
			}
			default -> throw new IllegalStateException();
			}
			return offset;
		}
	}

	/** names for the disassembly's comments */
	private static final class Names {
		private final Map<Integer, String> syscalls = new TreeMap<>();

		Names(Map<String, Integer> table) {
			table.forEach((name, nr) -> syscalls.putIfAbsent(nr, name));
		}

		String syscall(int nr) {
			return syscalls.getOrDefault(nr, "#" + nr);
		}

		String action(int ret) {
			if (ret == RET_ALLOW) {
				return "ALLOW";
			}
			if (ret == RET_KILL_PROCESS) {
				return "KILL_PROCESS";
			}
			if (ret == RET_LOG) {
				return "LOG";
			}
			if (precedence(ret) == RET_ERRNO) {
				int errno = ret & 0xffff;
				String name = SyscallTables.nameOf(SyscallTables.errnos(), errno);
				return "ERRNO(" + (name == null ? Integer.toString(errno) : name) + ")";
			}
			return String.format("0x%08x", ret);
		}
	}

	// ---- parsing

	private static List<String> words(String value) {
		List<String> out = new ArrayList<>();
		for (String w : value.strip().split("\\s+")) {
			if (!w.isEmpty()) {
				out.add(w);
			}
		}
		return out;
	}

	/** systemd's parse_errno(): a name, or a number 0..4095; -1 if neither */
	private static int parseErrno(String value) {
		Integer named = SyscallTables.errnos().get(value);
		if (named != null) {
			return named;
		}
		if (!value.matches("[0-9]{1,9}")) {
			return -1;
		}
		int e = Integer.parseInt(value);
		return e <= ERRNO_MAX ? e : -1;
	}

	/** systemd's parse_boolean(), null if not a boolean */
	private static Boolean parseBoolean(String value) {
		switch (value.toLowerCase(Locale.ROOT)) {
		case "1", "yes", "y", "true", "t", "on":
			return Boolean.TRUE;
		case "0", "no", "n", "false", "f", "off":
			return Boolean.FALSE;
		default:
			return null;
		}
	}

	private static IllegalArgumentException bad(String directive, String what) {
		return new IllegalArgumentException(directive + "=: " + what);
	}
}
