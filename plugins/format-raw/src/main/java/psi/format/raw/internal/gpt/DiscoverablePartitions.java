package psi.format.raw.internal.gpt;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import psi.format.raw.internal.gpt.PartitionTypes.Known;
import psi.format.raw.internal.gpt.PartitionTypes.Role;
import psi.spi.format.ImageException;

/**
 * Which partitions of a GPT image hold a portable service's root, by the rules
 * of systemd 252's {@code dissect_image()} (src/shared/dissect-image.c) with
 * the flags portabled and systemd-dissect use ({@code GENERIC_ROOT},
 * {@code REQUIRE_ROOT}, {@code USR_NO_ROOT}):
 * <ul>
 * <li>partitions with the no-auto attribute are ignored;
 * <li>the root partition of the host architecture wins, else that of the
 * secondary architecture (x86 on x86-64, arm on arm64), else one of any other
 * architecture; the same ladder then for usr;
 * <li>several root (usr, verity, signature) partitions of one class: the one
 * whose label is the newest version wins, the first on a tie (A/B images);
 * <li>a verity partition without its data partition, a signature partition
 * without its verity partition, root and usr of different architectures,
 * verity for both root and usr, or a verity root with a separate usr are
 * refused;
 * <li>with no root or usr partition at all, a single linux-generic partition is
 * the root; two of them are refused.
 * </ul>
 * When a root hash is known before dissection (a {@code .roothash} sidecar or
 * xattr), systemd considers only the data partition whose UUID is its first
 * 128 bits and the verity partition whose UUID is its last 128 bits;
 * {@link #select(GptTable, String, byte[], String)} does the same.
 * <p>
 * Where psi differs: systemd would mount a separate usr partition over a plain
 * root partition's {@code /usr}; psi reads one file system per image and
 * refuses such an image.
 */
public final class DiscoverablePartitions {

	/**
	 * What holds the image's root.
	 *
	 * @param data the data partition (root, usr, or the single linux-generic one)
	 * @param designator "root" or "usr" (a usr-only image)
	 * @param verity its dm-verity hash partition, if any
	 * @param veritySig the partition with the signed root hash of that verity
	 *        partition, if any
	 */
	public record Selection(Partition data, String designator, Optional<Partition> verity, Optional<Partition> veritySig) {
	}

	private static final int NATIVE = 0;
	private static final int SECONDARY = 1;
	private static final int OTHER = 2;
	private static final Role[] ROLES = { Role.ROOT, Role.ROOT_VERITY, Role.ROOT_VERITY_SIG, Role.USR, Role.USR_VERITY,
		Role.USR_VERITY_SIG };
	private static final int ROOT = 0;
	private static final int ROOT_VERITY = 1;
	private static final int ROOT_SIG = 2;
	private static final int USR = 3;
	private static final int USR_VERITY = 4;
	private static final int USR_SIG = 5;

	private DiscoverablePartitions() {
	}

	/**
	 * Chooses the partitions of a portable service's root for an architecture,
	 * as systemd 252 does when no root hash is known in advance.
	 *
	 * @param t the image's partition table
	 * @param arch systemd's name of the host architecture, see
	 *        {@link PartitionTypes#hostArch()}
	 * @return the data partition and its verity partitions
	 * @throws ImageException if the image has no usable root or usr partition, or
	 *         a combination systemd refuses
	 */
	public static Selection select(GptTable t, String arch) throws ImageException {
		return select(t, arch, null, null);
	}

	/**
	 * Chooses as {@link #select(GptTable, String)}, with a root hash known before
	 * dissection.
	 *
	 * @param rootHash the root hash from a sidecar file or xattr, or null
	 * @param hashDesignator "usr" if it came from a {@code .usrhash} sidecar,
	 *        "root" or null otherwise
	 */
	public static Selection select(GptTable t, String arch, byte[] rootHash, String hashDesignator) throws ImageException {
		String label = t.label();
		boolean usrHash = "usr".equals(hashDesignator);
		UUID rootUuid = null;
		UUID rootVerityUuid = null;
		UUID usrUuid = null;
		UUID usrVerityUuid = null;
		if (rootHash != null) {
			if (rootHash.length < 16) {
				throw new ImageException(label + ": root hash of " + rootHash.length + " bytes, fewer than 16");
			}
			UUID first = uuid(rootHash, 0);
			UUID last = uuid(rootHash, rootHash.length - 16);
			if (usrHash) {
				usrUuid = first;
				usrVerityUuid = last;
			} else {
				rootUuid = first;
				rootVerityUuid = last;
			}
		}
		Optional<String> secondary = PartitionTypes.secondaryArch(arch);
		Partition[][] slot = new Partition[3][ROLES.length];
		Partition generic = null;
		Partition secondGeneric = null;
		for (Partition p : t.partitions()) {
			Optional<Known> k = PartitionTypes.lookup(p.type());
			if (k.isEmpty() || p.noAuto()) {
				continue;
			}
			Role role = k.get().role();
			if (role == Role.LINUX_GENERIC) {
				if (generic == null) {
					generic = p;
				} else if (secondGeneric == null) {
					secondGeneric = p;
				}
				continue;
			}
			if (!role.perArchitecture()) {
				continue;
			}
			int r = index(role);
			boolean skip = switch (r) {
				case ROOT -> rootUuid != null && !rootUuid.equals(p.uuid());
				case ROOT_VERITY -> usrHash || rootVerityUuid != null && !rootVerityUuid.equals(p.uuid());
				case ROOT_SIG -> usrHash;
				case USR -> usrUuid != null && !usrUuid.equals(p.uuid());
				case USR_VERITY -> rootHash != null && !usrHash || usrVerityUuid != null && !usrVerityUuid.equals(p.uuid());
				default -> rootHash != null && !usrHash;
			};
			if (skip) {
				continue;
			}
			String a = k.get().arch().orElseThrow();
			int c = a.equals(arch) ? NATIVE : secondary.isPresent() && a.equals(secondary.get()) ? SECONDARY : OTHER;
			Partition old = slot[c][r];
			if (old == null || LabelVersions.compare(old.name(), p.name()) < 0) {
				slot[c][r] = p;
			}
		}

		// the ladder of dissect_image(): native, else secondary, else any other architecture
		Partition[] use = new Partition[ROLES.length];
		if (slot[NATIVE][ROOT] != null) {
			copy(slot[NATIVE], use, ROOT, USR_SIG);
		} else if (slot[NATIVE][ROOT_VERITY] != null || slot[NATIVE][ROOT_SIG] != null) {
			throw orphan(label, first(slot[NATIVE][ROOT_VERITY], slot[NATIVE][ROOT_SIG]), "root");
		} else if (slot[SECONDARY][ROOT] != null) {
			copy(slot[SECONDARY], use, ROOT, USR_SIG);
		} else if (slot[SECONDARY][ROOT_VERITY] != null || slot[SECONDARY][ROOT_SIG] != null) {
			throw orphan(label, first(slot[SECONDARY][ROOT_VERITY], slot[SECONDARY][ROOT_SIG]), "root");
		} else if (slot[OTHER][ROOT] != null) {
			copy(slot[OTHER], use, ROOT, USR_SIG);
		} else {
			// no root of any class: keep the native usr slots, the usr ladder below decides
			copy(slot[NATIVE], use, USR, USR_SIG);
		}
		if (use[ROOT_SIG] != null && use[ROOT_VERITY] == null) {
			throw noVerity(label, use[ROOT_SIG]);
		}
		if (use[USR] == null) {
			if (use[USR_VERITY] != null || use[USR_SIG] != null) {
				throw orphan(label, first(use[USR_VERITY], use[USR_SIG]), "usr");
			}
			// with a root found, its class's usr slots are taken as they are: no usr of another class
			if (use[ROOT] == null) {
				if (slot[SECONDARY][USR] != null) {
					copy(slot[SECONDARY], use, USR, USR_SIG);
				} else if (slot[SECONDARY][USR_VERITY] != null || slot[SECONDARY][USR_SIG] != null) {
					throw orphan(label, first(slot[SECONDARY][USR_VERITY], slot[SECONDARY][USR_SIG]), "usr");
				} else if (slot[OTHER][USR] != null) {
					copy(slot[OTHER], use, USR, USR_SIG);
				}
			}
		}
		if (use[USR_SIG] != null && use[USR_VERITY] == null) {
			throw noVerity(label, use[USR_SIG]);
		}
		if (use[ROOT] != null && use[USR] != null) {
			String ra = archOf(use[ROOT]);
			String ua = archOf(use[USR]);
			if (!ra.equals(ua)) {
				throw new ImageException(label + ": root partition " + use[ROOT].number() + " is for " + ra + " but usr partition "
					+ use[USR].number() + " is for " + ua);
			}
		}
		boolean genericRoot = false;
		if (use[ROOT] == null && use[USR] == null && !(rootHash != null && usrHash)) {
			if (secondGeneric != null) {
				throw new ImageException(label + ": no root or usr partition for " + arch + ", and linux-generic partitions "
					+ generic.number() + " and " + secondGeneric.number() + " both could be the root; refusing to guess");
			}
			if (generic != null) {
				use[ROOT] = generic;
				genericRoot = true;
			}
		}
		if (use[ROOT] == null && use[USR] == null) {
			throw new ImageException(label + ": no root or usr partition"
				+ (rootHash != null ? " whose UUID matches the root hash " + HexFormat.of().formatHex(rootHash) : " for " + arch)
				+ " (" + inventory(t) + ")");
		}
		if (use[ROOT_VERITY] != null && use[USR_VERITY] != null) {
			throw new ImageException(label + ": verity partitions for both root (" + use[ROOT_VERITY].number() + ") and usr ("
				+ use[USR_VERITY].number() + "); one verity partition per image is supported, as in systemd");
		}
		if (use[ROOT_VERITY] != null && use[USR] != null) {
			throw new ImageException(label + ": a verity-protected root partition (" + use[ROOT].number()
				+ ") with a separate usr partition (" + use[USR].number() + ") is not supported, as in systemd");
		}
		if (rootHash != null) {
			int data = usrHash ? USR : ROOT;
			int verity = usrHash ? USR_VERITY : ROOT_VERITY;
			if (use[data] == null || use[verity] == null || genericRoot) {
				throw new ImageException(label + ": no " + (usrHash ? "usr" : "root") + " and verity partitions whose UUIDs match"
					+ " the root hash " + HexFormat.of().formatHex(rootHash) + " (" + inventory(t) + ")");
			}
		}
		if (use[ROOT] != null && use[USR] != null) {
			throw new ImageException(label + ": root partition " + use[ROOT].number() + " with a separate usr partition "
				+ use[USR].number() + ": psi reads one file system per image and does not support a split /usr");
		}
		if (use[ROOT] != null) {
			return new Selection(use[ROOT], "root", Optional.ofNullable(use[ROOT_VERITY]), Optional.ofNullable(use[ROOT_SIG]));
		}
		return new Selection(use[USR], "usr", Optional.ofNullable(use[USR_VERITY]), Optional.ofNullable(use[USR_SIG]));
	}

	private static int index(Role role) {
		for (int i = 0; i < ROLES.length; i++) {
			if (ROLES[i] == role) {
				return i;
			}
		}
		throw new IllegalArgumentException(role.toString());
	}

	private static void copy(Partition[] from, Partition[] to, int first, int last) {
		System.arraycopy(from, first, to, first, last - first + 1);
	}

	private static Partition first(Partition a, Partition b) {
		return a != null ? a : b;
	}

	private static String archOf(Partition p) {
		return PartitionTypes.lookup(p.type()).flatMap(Known::arch).orElse("?");
	}

	private static ImageException orphan(String label, Partition p, String data) {
		return new ImageException(label + ": partition " + p.number() + " (" + PartitionTypes.name(p.type()) + ") protects no "
			+ data + " partition: there is no " + data + "-" + archOf(p) + " partition");
	}

	private static ImageException noVerity(String label, Partition sig) {
		return new ImageException(label + ": signature partition " + sig.number() + " (" + PartitionTypes.name(sig.type())
			+ ") has no verity partition to sign");
	}

	/** One line listing the partitions, for messages: "1: root-arm64, 2: esp". */
	static String inventory(GptTable t) {
		if (t.partitions().isEmpty()) {
			return "the partition table is empty";
		}
		List<String> parts = new ArrayList<>();
		for (Partition p : t.partitions()) {
			parts.add(p.number() + ": " + PartitionTypes.name(p.type()) + (p.noAuto() ? " (no-auto)" : ""));
		}
		return "partitions " + String.join(", ", parts);
	}

	/** The UUID whose string form is the 16 bytes at {@code off}, in order, as systemd's sd_id128. */
	static UUID uuid(byte[] b, int off) {
		long msb = 0;
		long lsb = 0;
		for (int i = 0; i < 8; i++) {
			msb = msb << 8 | (b[off + i] & 0xff);
			lsb = lsb << 8 | (b[off + 8 + i] & 0xff);
		}
		return new UUID(msb, lsb);
	}
}
