package psi.format.raw.internal;

import java.io.IOException;
import java.nio.file.Path;

import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/** The bytes a file takes on disk ({@code st_blocks * 512}), which the JDK does not tell, through jnr-posix. */
final class AllocatedSize {

	private static volatile POSIX posix;

	private AllocatedSize() {
	}

	static long of(Path file) throws IOException {
		POSIX p = posix;
		if (p == null) {
			p = POSIXFactory.getNativePOSIX();
			posix = p;
		}
		FileStat st = p.stat(file.toString());
		if (st == null) {
			throw new IOException("cannot stat " + file);
		}
		return st.blocks() * 512;
	}
}
