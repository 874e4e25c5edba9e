package psi.transport.ssh.internal;

import java.io.IOException;

/**
 * The attributes of a file as SFTP version 3 states them
 * (draft-ietf-secsh-filexfer-02, section 5); what the server left out is -1.
 *
 * @param size bytes, or -1
 * @param permissions the POSIX mode with the file type bits, or -1
 * @param mtime the modification time in seconds since 1970, or -1
 */
record SftpAttributes(long size, int permissions, long mtime) {

	private static final int S_IFMT = 0170000;
	private static final int S_IFREG = 0100000;

	/** @return whether the server stated a type and it is not a regular file */
	boolean notRegularFile() {
		return permissions != -1 && (permissions & S_IFMT) != S_IFREG;
	}

	/**
	 * Reads an {@code ATTRS} structure; extended attributes, which come last,
	 * are left unread.
	 */
	static SftpAttributes read(SftpPacket p) throws IOException {
		int flags = p.u32();
		long size = -1;
		int permissions = -1;
		long mtime = -1;
		if ((flags & SftpPacket.ATTR_SIZE) != 0) {
			size = p.u64();
			if (size < 0) {
				throw new SftpException("the server states a size of " + Long.toUnsignedString(size) + " bytes");
			}
		}
		if ((flags & SftpPacket.ATTR_UIDGID) != 0) {
			p.u32();
			p.u32();
		}
		if ((flags & SftpPacket.ATTR_PERMISSIONS) != 0) {
			permissions = p.u32() & 0xffff;
		}
		if ((flags & SftpPacket.ATTR_ACMODTIME) != 0) {
			p.u32();
			mtime = Integer.toUnsignedLong(p.u32());
		}
		return new SftpAttributes(size, permissions, mtime);
	}
}
