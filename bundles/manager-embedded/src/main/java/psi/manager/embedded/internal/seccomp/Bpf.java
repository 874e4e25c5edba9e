package psi.manager.embedded.internal.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A small assembler for classic BPF, as seccomp takes it: {@code struct sock_filter {u16 code; u8 jt; u8 jf; u32 k;}}
 * instructions, with labels for the jump targets. Conditional jumps reach at most 255 instructions forward, {@code ja}
 * any distance forward; {@link #assemble()} fails when a conditional jump is out of reach or the program is longer
 * than the kernel's {@value #MAX_INSNS} instructions.
 */
final class Bpf {

	/** BPF_LD | BPF_W | BPF_ABS */
	static final int LD_W_ABS = 0x20;
	/** BPF_ALU | BPF_AND | BPF_K */
	static final int ALU_AND_K = 0x54;
	/** BPF_JMP | BPF_JA */
	static final int JA = 0x05;
	/** BPF_JMP | BPF_JEQ | BPF_K */
	static final int JEQ_K = 0x15;
	/** BPF_JMP | BPF_JGT | BPF_K */
	static final int JGT_K = 0x25;
	/** BPF_JMP | BPF_JGE | BPF_K */
	static final int JGE_K = 0x35;
	/** BPF_JMP | BPF_JSET | BPF_K */
	static final int JSET_K = 0x45;
	/** BPF_RET | BPF_K */
	static final int RET_K = 0x06;

	/** BPF_MAXINSNS: the longest program the kernel takes */
	static final int MAX_INSNS = 4096;

	/** a jump target, bound to the next instruction emitted after {@link Bpf#bind(Label)} */
	static final class Label {
		int pc = -1;
	}

	/** one resolved instruction: jt and jf are relative (0..255); for {@code ja}, k is */
	record Insn(int code, int jt, int jf, int k, String comment) {
	}

	private static final class Pending {
		final int code;
		final int k;
		final Label jt;
		final Label jf;
		final String comment;

		Pending(int code, int k, Label jt, Label jf, String comment) {
			this.code = code;
			this.k = k;
			this.jt = jt;
			this.jf = jf;
			this.comment = comment;
		}
	}

	private final List<Pending> pending = new ArrayList<>();

	Label label() {
		return new Label();
	}

	void bind(Label label) {
		if (label.pc >= 0) {
			throw new IllegalStateException("BPF label bound twice");
		}
		label.pc = pending.size();
	}

	/** A = the 32-bit word at this offset of struct seccomp_data */
	void ld(int offset, String comment) {
		pending.add(new Pending(LD_W_ABS, offset, null, null, comment));
	}

	/** A &= k */
	void and(int k) {
		pending.add(new Pending(ALU_AND_K, k, null, null, null));
	}

	/**
	 * A conditional jump; a null target is the next instruction.
	 *
	 * @param code {@link #JEQ_K}, {@link #JGT_K}, {@link #JGE_K} or {@link #JSET_K}
	 */
	void jump(int code, int k, Label jt, Label jf, String comment) {
		pending.add(new Pending(code, k, jt, jf, comment));
	}

	/** an unconditional jump, of any distance forward */
	void ja(Label target) {
		pending.add(new Pending(JA, 0, target, null, null));
	}

	void ret(int k, String comment) {
		pending.add(new Pending(RET_K, k, null, null, comment));
	}

	int size() {
		return pending.size();
	}

	/** @return the program, jumps resolved */
	List<Insn> assemble() {
		if (pending.size() > MAX_INSNS) {
			throw new IllegalStateException("seccomp filter of " + pending.size() + " instructions, more than the kernel's "
					+ MAX_INSNS + " (BPF_MAXINSNS)");
		}
		List<Insn> out = new ArrayList<>(pending.size());
		for (int pc = 0; pc < pending.size(); pc++) {
			Pending p = pending.get(pc);
			if (p.code == JA) {
				out.add(new Insn(JA, 0, 0, offset(pc, p.jt, Integer.MAX_VALUE), p.comment));
			} else if (p.code == JEQ_K || p.code == JGT_K || p.code == JGE_K || p.code == JSET_K) {
				out.add(new Insn(p.code, offset(pc, p.jt, 255), offset(pc, p.jf, 255), p.k, p.comment));
			} else {
				out.add(new Insn(p.code, 0, 0, p.k, p.comment));
			}
		}
		if (out.isEmpty() || out.get(out.size() - 1).code() != RET_K) {
			throw new IllegalStateException("seccomp filter does not end with a return");
		}
		return Collections.unmodifiableList(out);
	}

	private int offset(int pc, Label target, int max) {
		if (target == null) {
			return 0;
		}
		if (target.pc < 0) {
			throw new IllegalStateException("BPF label never bound");
		}
		int off = target.pc - pc - 1;
		if (off < 0 || off > max) {
			throw new IllegalStateException("BPF jump from " + pc + " to " + target.pc + " is out of reach");
		}
		if (target.pc >= pending.size()) {
			throw new IllegalStateException("BPF jump from " + pc + " past the end of the program");
		}
		return off;
	}

	/** @return struct sock_filter[], little-endian (x86_64 and aarch64) */
	static byte[] bytes(List<Insn> program) {
		ByteBuffer out = ByteBuffer.allocate(program.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
		for (Insn i : program) {
			out.putShort((short) i.code());
			out.put((byte) i.jt());
			out.put((byte) i.jf());
			out.putInt(i.k());
		}
		return out.array();
	}

	/** @return the instructions of struct sock_filter[] bytes, little-endian, without comments */
	static List<Insn> decode(byte[] program) {
		if (program.length % 8 != 0) {
			throw new IllegalArgumentException("a BPF program is a multiple of 8 bytes, not " + program.length);
		}
		ByteBuffer in = ByteBuffer.wrap(program).order(ByteOrder.LITTLE_ENDIAN);
		List<Insn> out = new ArrayList<>(program.length / 8);
		while (in.hasRemaining()) {
			int code = Short.toUnsignedInt(in.getShort());
			int jt = Byte.toUnsignedInt(in.get());
			int jf = Byte.toUnsignedInt(in.get());
			out.add(new Insn(code, jt, jf, in.getInt(), null));
		}
		return out;
	}

	/** @return one line an instruction, jump targets absolute */
	static String text(List<Insn> program) {
		StringBuilder out = new StringBuilder();
		int width = Integer.toString(program.size()).length();
		for (int pc = 0; pc < program.size(); pc++) {
			Insn i = program.get(pc);
			String op;
			switch (i.code()) {
			case LD_W_ABS -> op = "ld    [" + i.k() + "]";
			case ALU_AND_K -> op = "and   #" + hex(i.k());
			case JA -> op = "ja    " + (pc + 1 + i.k());
			case JEQ_K, JGT_K, JGE_K, JSET_K -> op = String.format("%-5s #%-11s jt %-5d jf %d", jumpName(i.code()),
					hex(i.k()), pc + 1 + i.jt(), pc + 1 + i.jf());
			case RET_K -> op = "ret   #" + hex(i.k());
			default -> op = String.format("code=0x%04x jt=%d jf=%d k=%s", i.code(), i.jt(), i.jf(), hex(i.k()));
			}
			String line = String.format("%" + width + "d: %s", pc, op);
			if (i.comment() != null) {
				line = String.format("%-" + (width + 44) + "s ; %s", line, i.comment());
			}
			out.append(line.stripTrailing()).append('\n');
		}
		return out.toString();
	}

	private static String jumpName(int code) {
		return switch (code) {
		case JEQ_K -> "jeq";
		case JGT_K -> "jgt";
		case JGE_K -> "jge";
		default -> "jset";
		};
	}

	private static String hex(int k) {
		return "0x" + Integer.toHexString(k);
	}
}
