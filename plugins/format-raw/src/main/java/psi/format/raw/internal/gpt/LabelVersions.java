package psi.format.raw.internal.gpt;

import psi.spi.format.VersionOrder;

/**
 * systemd's {@code strverscmp_improved()} (src/fundamental/strverscmp.c, 252):
 * how dissection picks the newest of several root or usr partitions by their
 * labels (of {@code root_1.9} and {@code root_1.10}, the latter), the A/B
 * scheme of OS images. A missing label is older than any label.
 */
final class LabelVersions {

	private LabelVersions() {
	}

	/** @return negative, zero or positive as {@code a} is older than, as new as, or newer than {@code b} */
	static int compare(String a, String b) {
		if (a == null || a.isEmpty() || b == null || b.isEmpty()) {
			// systemd: NULL < "" < anything; libblkid reports an empty label as NULL
			boolean ea = a == null || a.isEmpty();
			boolean eb = b == null || b.isEmpty();
			return ea == eb ? 0 : ea ? -1 : 1;
		}
		return VersionOrder.compare(a, b);
	}
}
