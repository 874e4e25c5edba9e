package psi.format.tar.internal;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

import psi.spi.format.ImageException;

/**
 * The {@code user.} extended attributes of an entry, from the pax records
 * GNU tar writes with {@code --xattrs} ({@code SCHILY.xattr.user.NAME}).
 * Only {@code user.} attributes are kept: {@code security.capability} would
 * grant privileges as a set-user-ID bit does, and {@code trusted.} and the
 * ACLs are the host's business. commons-compress decodes pax values as
 * UTF-8, so a binary value is not kept byte for byte; psi's attributes
 * ({@code user.extension-release.strict}) are text.
 */
final class EntryXattrs {

	/** The largest attribute value kept, the kernel's own limit (XATTR_SIZE_MAX). */
	static final int MAX_VALUE = 64 * 1024;

	private static final String PREFIX = "SCHILY.xattr.";

	private EntryXattrs() {
	}

	/**
	 * @param archive the archive, for messages
	 * @param e an entry
	 * @return its {@code user.} attributes, full name to value; empty when it has none
	 * @throws ImageException if a value is larger than {@value #MAX_VALUE} bytes
	 */
	static Map<String, byte[]> user(TarArchive archive, TarArchiveEntry e) throws ImageException {
		Map<String, byte[]> out = null;
		for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
			if (!h.getKey().startsWith(PREFIX + "user.")) {
				continue;
			}
			String name = h.getKey().substring(PREFIX.length());
			byte[] value = h.getValue().getBytes(StandardCharsets.UTF_8);
			if (value.length > MAX_VALUE) {
				throw archive.refuse(e.getName(), "extended attribute " + TarArchive.printable(name) + " is larger than " + MAX_VALUE + " bytes");
			}
			if (out == null) {
				out = new TreeMap<>();
			}
			out.put(name, value);
		}
		return out == null ? Map.of() : out;
	}
}
