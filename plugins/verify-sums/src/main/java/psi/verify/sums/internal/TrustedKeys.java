package psi.verify.sums.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.bouncycastle.bcpg.KeyIdentifier;
import org.bouncycastle.openpgp.PGPMarker;
import org.bouncycastle.openpgp.PGPObjectFactory;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.bc.BcPGPObjectFactory;

import psi.spi.verify.VerificationException;

/**
 * The OpenPGP keys the admin trusts to sign images: every {@code *.gpg}
 * (binary) and {@code *.asc} (armored) file in {@value #TRUSTED_DIR}, psi's
 * own, plus systemd-importd's keyring. importd 252 ({@code pull_verify()} in
 * src/import/pull-common.c) hands gpg {@value #IMPORTD_USER} when that file
 * exists and {@value #IMPORTD_VENDOR} otherwise, never both: an admin's
 * keyring replaces the vendor's, and psi keeps that. Binary or armored is told
 * by content, not name. Read afresh for each image; immutable once read.
 */
final class TrustedKeys {

	/** psi's directory of trusted keyrings. */
	static final String TRUSTED_DIR = "/etc/psi/trusted.gpg.d";
	/** importd's admin keyring ({@code USER_KEYRING_PATH}). */
	static final String IMPORTD_USER = "/etc/systemd/import-pubring.gpg";
	/** importd's vendor keyring ({@code VENDOR_KEYRING_PATH}), used when there is no admin keyring. */
	static final String IMPORTD_VENDOR = "/usr/lib/systemd/import-pubring.gpg";
	/** Bounds one keyring file. */
	static final int MAX_KEYRING = 16 << 20;
	/** Bounds the keyring files read from {@value #TRUSTED_DIR}. */
	static final int MAX_FILES = 1024;

	/**
	 * A trusted key that may have made a signature.
	 *
	 * @param ring the certificate holding it
	 * @param key the primary key or one of its subkeys
	 * @param source the host path of the keyring file
	 */
	record Candidate(PGPPublicKeyRing ring, PGPPublicKey key, String source) {
		/** @return the certificate's primary key */
		PGPPublicKey primary() {
			return ring.getPublicKey();
		}
	}

	private record Keyring(String path, List<PGPPublicKeyRing> rings) {
	}

	private final List<Keyring> keyrings;
	private final String where;

	private TrustedKeys(List<Keyring> keyrings, String where) {
		this.keyrings = keyrings;
		this.where = where;
	}

	/**
	 * Reads every trusted keyring.
	 *
	 * @param host resolves a host path under the root psi works on
	 * @return the keys
	 * @throws VerificationException when a keyring file is too large, is a
	 *             GnuPG keybox, or does not parse
	 * @throws IOException on an I/O error
	 */
	static TrustedKeys load(Function<String, Path> host) throws IOException {
		return load(host, TRUSTED_DIR);
	}

	/**
	 * As {@link #load(Function)}, with psi's keyrings in {@code trustedDir}
	 * (an absolute path as the root psi works on sees it).
	 */
	static TrustedKeys load(Function<String, Path> host, String trustedDir) throws IOException {
		List<Keyring> keyrings = new ArrayList<>();
		Path dir = host.apply(trustedDir);
		List<Path> files = new ArrayList<>();
		if (Files.isDirectory(dir)) {
			try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
				for (Path p : ds) {
					String name = p.getFileName().toString();
					if (!name.startsWith(".") && (name.endsWith(".gpg") || name.endsWith(".asc")) && Files.isRegularFile(p)) {
						files.add(p);
						if (files.size() > MAX_FILES) {
							throw new VerificationException("signature: " + trustedDir + " holds more than " + MAX_FILES + " keyrings");
						}
					}
				}
			} catch (NoSuchFileException e) {
				// gone meanwhile: no keys there
			}
		}
		files.sort(null);
		for (Path p : files) {
			String path = trustedDir + "/" + p.getFileName();
			keyrings.add(new Keyring(path, read(p, path)));
		}
		// importd tests the admin keyring with access(F_OK), following links
		String importd = Files.exists(host.apply(IMPORTD_USER)) ? IMPORTD_USER : IMPORTD_VENDOR;
		Path p = host.apply(importd);
		if (Files.exists(p)) {
			keyrings.add(new Keyring(importd, read(p, importd)));
		}
		return new TrustedKeys(List.copyOf(keyrings), trustedDir + " or " + importd);
	}

	private static List<PGPPublicKeyRing> read(Path file, String path) throws IOException {
		return parse(BoundedFile.read(file, MAX_KEYRING, "signature", "keyring " + path), path);
	}

	/** @return the public key rings of a keyring file's content; {@code path} names it in messages */
	static List<PGPPublicKeyRing> parse(byte[] content, String path) throws VerificationException {
		if (OpenPgpFiles.isKeybox(content)) {
			throw new VerificationException("signature: keyring " + path + " is a GnuPG keybox, which only GnuPG reads;"
				+ " write it with gpg --export (or --export --armor to a .asc)");
		}
		List<PGPPublicKeyRing> rings = new ArrayList<>();
		try {
			PGPObjectFactory f = new BcPGPObjectFactory(OpenPgpFiles.packets(content));
			for (Object o = f.nextObject(); o != null; o = f.nextObject()) {
				if (o instanceof PGPPublicKeyRing ring) {
					rings.add(ring);
				} else if (o instanceof PGPSecretKeyRing) {
					throw new VerificationException("signature: keyring " + path + " holds a secret key; trusted keyrings hold public keys only");
				} else if (!(o instanceof PGPMarker)) {
					throw new VerificationException("signature: keyring " + path + " holds " + o.getClass().getSimpleName()
						+ ", not public keys");
				}
			}
		} catch (VerificationException e) {
			throw e;
		} catch (IOException | RuntimeException e) {
			// Bouncy Castle reports malformed packets with unchecked exceptions too
			throw new VerificationException("signature: cannot read keyring " + path + ": " + OpenPgpFiles.reason(e));
		}
		return rings;
	}

	/**
	 * @param signature a signature
	 * @return the trusted keys its issuer subpackets name (key ID and, when
	 *         present, fingerprint: all of them must name the key), in keyring order
	 */
	List<Candidate> find(PGPSignature signature) {
		List<KeyIdentifier> issuers = issuers(signature);
		List<Candidate> found = new ArrayList<>();
		if (issuers.isEmpty()) {
			return found;
		}
		for (Keyring k : keyrings) {
			for (PGPPublicKeyRing ring : k.rings()) {
				for (PGPPublicKey key : ring) {
					KeyIdentifier id = key.getKeyIdentifier();
					if (issuers.stream().allMatch(i -> i.matchesExplicit(id))) {
						found.add(new Candidate(ring, key, k.path()));
					}
				}
			}
		}
		return found;
	}

	/** @return the keys a signature names as its issuer, without wildcards */
	static List<KeyIdentifier> issuers(PGPSignature signature) {
		return signature.getKeyIdentifiers().stream().filter(i -> !i.isWildcard()).toList();
	}

	/** @return how messages name the trusted keyrings, e.g. {@code /etc/psi/trusted.gpg.d or /usr/lib/systemd/import-pubring.gpg} */
	String where() {
		return where;
	}
}
