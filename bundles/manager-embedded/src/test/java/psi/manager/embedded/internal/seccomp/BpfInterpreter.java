package psi.manager.embedded.internal.seccomp;

import java.util.List;

/**
 * Runs a seccomp BPF program on a {@code struct seccomp_data}, as the kernel would, and checks on the way what the
 * kernel's checker checks (jumps in range, loads aligned within the data, every path ends in a return).
 */
final class BpfInterpreter {

	private BpfInterpreter() {
	}

	/** @return the return value of the program for this system call */
	static int run(byte[] program, int arch, int nr, long... args) {
		return run(Bpf.decode(program), arch, nr, args);
	}

	static int run(List<Bpf.Insn> program, int arch, int nr, long... args) {
		if (program.isEmpty() || program.size() > Bpf.MAX_INSNS) {
			throw new AssertionError("program length " + program.size());
		}
		byte[] data = new byte[64];
		putInt(data, 0, nr);
		putInt(data, 4, arch);
		putInt(data, 8, 0x1000); // ip
		for (int i = 0; i < 6; i++) {
			long a = i < args.length ? args[i] : 0;
			putInt(data, 16 + 8 * i, (int) a);
			putInt(data, 20 + 8 * i, (int) (a >>> 32));
		}
		int acc = 0;
		int pc = 0;
		for (int steps = 0; steps <= program.size(); steps++) {
			if (pc >= program.size()) {
				throw new AssertionError("ran off the end of the program");
			}
			Bpf.Insn i = program.get(pc);
			switch (i.code()) {
			case Bpf.LD_W_ABS -> {
				if (i.k() < 0 || i.k() > 60 || i.k() % 4 != 0) {
					throw new AssertionError("bad load offset " + i.k() + " at " + pc);
				}
				acc = getInt(data, i.k());
				pc++;
			}
			case Bpf.ALU_AND_K -> {
				acc &= i.k();
				pc++;
			}
			case Bpf.JA -> {
				pc = target(program, pc, i.k());
			}
			case Bpf.JEQ_K, Bpf.JGT_K, Bpf.JGE_K, Bpf.JSET_K -> {
				boolean t = switch (i.code()) {
				case Bpf.JEQ_K -> acc == i.k();
				case Bpf.JGT_K -> Integer.compareUnsigned(acc, i.k()) > 0;
				case Bpf.JGE_K -> Integer.compareUnsigned(acc, i.k()) >= 0;
				default -> (acc & i.k()) != 0;
				};
				if (i.jt() > 255 || i.jf() > 255) {
					throw new AssertionError("jump offset out of range at " + pc);
				}
				pc = target(program, pc, t ? i.jt() : i.jf());
			}
			case Bpf.RET_K -> {
				return i.k();
			}
			default -> throw new AssertionError("unexpected instruction code " + i.code() + " at " + pc);
			}
		}
		throw new AssertionError("loop in the program");
	}

	private static int target(List<Bpf.Insn> program, int pc, int offset) {
		long t = (long) pc + 1 + Integer.toUnsignedLong(offset);
		if (t >= program.size()) {
			throw new AssertionError("jump from " + pc + " beyond the end");
		}
		return (int) t;
	}

	private static void putInt(byte[] b, int off, int v) {
		b[off] = (byte) v;
		b[off + 1] = (byte) (v >>> 8);
		b[off + 2] = (byte) (v >>> 16);
		b[off + 3] = (byte) (v >>> 24);
	}

	private static int getInt(byte[] b, int off) {
		return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
	}
}
