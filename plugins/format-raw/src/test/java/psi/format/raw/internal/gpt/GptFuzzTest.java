package psi.format.raw.internal.gpt;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import psi.spi.format.ImageException;

/**
 * A seeded mutation loop over the MBR, GPT headers and entries of real sfdisk
 * images, for a fixed time: GptTable and DiscoverablePartitions may accept or
 * refuse (ImageException) but never fail otherwise, hang, or return a table
 * that breaks their promises. A failure names the seed and iteration to replay.
 */
class GptFuzzTest {

	static final long SEED = 0x5eed_6e7L;
	static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(5);
	static final long PER_ITERATION_SECONDS = 10;

	@TempDir
	Path dir;

	/** A writable image and the bytes of its table regions as sfdisk made them. */
	private static final class Base {
		final Path img;
		final int ss;
		final long size;
		final byte[] head;
		final byte[] tail;

		Base(Path img, int ss) throws IOException {
			this.img = img;
			this.ss = ss;
			try (FileChannel ch = FileChannel.open(img)) {
				this.size = ch.size();
				this.head = new byte[34 * ss];
				this.tail = new byte[33 * ss];
				ch.read(ByteBuffer.wrap(head), 0);
				ch.read(ByteBuffer.wrap(tail), size - tail.length);
			}
		}
	}

	@Test
	void mutatedTablesAreAcceptedOrRefusedNeverAnythingElse() throws Exception {
		List<Base> bases = new ArrayList<>();
		String script = "size=1M, type=" + Fixtures.type("root-x86-64") + ", name=root_1\n"
			+ "size=512K, type=" + Fixtures.type("root-x86-64-verity") + "\n"
			+ "size=16K, type=" + Fixtures.type("root-x86-64-verity-sig") + "\n"
			+ "size=1M, type=" + Fixtures.type("root-x86-64") + ", name=root_2, attrs=GUID:63\n"
			+ "size=1M, type=" + PartitionTypes.LINUX_GENERIC + "\n";
		bases.add(new Base(Fixtures.sfdisk(Fixtures.sparse(dir.resolve("fuzz-512.raw"), 8 << 20), script), 512));
		if (Fixtures.canUseLoopDevices()) {
			bases.add(new Base(Fixtures.sfdisk(Fixtures.sparse(dir.resolve("fuzz-4096.raw"), 16 << 20), script, 4096), 4096));
		}
		int[] outcomes = new int[5]; // table, table with warning, no GPT, refused, selected
		long iterations = 0;
		ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
			Thread t = new Thread(r, "gpt-fuzz");
			t.setDaemon(true);
			return t;
		});
		try {
			long end = System.nanoTime() + BUDGET_NANOS;
			for (long it = 0; System.nanoTime() < end; it++) {
				Base b = bases.get((int) (it % bases.size()));
				Random r = new Random(SEED + it);
				mutate(b, r);
				long iteration = it;
				Future<int[]> f = worker.submit(() -> check(b));
				try {
					int[] o = f.get(PER_ITERATION_SECONDS, TimeUnit.SECONDS);
					for (int k : o) {
						outcomes[k]++;
					}
				} catch (TimeoutException e) {
					fail("seed " + SEED + " iteration " + iteration + ": no answer in " + PER_ITERATION_SECONDS + " s");
				} catch (ExecutionException e) {
					throw new AssertionError("seed " + SEED + " iteration " + iteration + ": " + e.getCause(), e.getCause());
				}
				iterations++;
			}
		} finally {
			worker.shutdownNow();
		}
		System.out.printf("GPT fuzz: %d iterations in %d s: %d tables (%d with a warning), %d without GPT, %d refused,"
			+ " %d root selections%n", iterations, TimeUnit.NANOSECONDS.toSeconds(BUDGET_NANOS), outcomes[0] + outcomes[1],
			outcomes[1], outcomes[2], outcomes[3], outcomes[4]);
		assertTrue(iterations > 100, "only " + iterations + " iterations");
		assertTrue(outcomes[3] > 0 && outcomes[0] + outcomes[1] > 0, "the mutations reach both outcomes");
	}

	/** Reads the mutated image: the outcome indices of {@code outcomes}. */
	private static int[] check(Base b) throws IOException {
		try (FileChannel ch = FileChannel.open(b.img)) {
			Optional<GptTable> t;
			try {
				t = GptTable.read(ch, b.size, "fuzz");
			} catch (ImageException e) {
				assertOneLine(e);
				return new int[] { 3 };
			}
			if (t.isEmpty()) {
				return new int[] { 2 };
			}
			GptTable table = t.get();
			checkPromises(table, b.size);
			int first = table.warning().isPresent() ? 1 : 0;
			try {
				DiscoverablePartitions.select(table, "x86-64");
				return new int[] { first, 4 };
			} catch (ImageException e) {
				assertOneLine(e);
				return new int[] { first };
			}
		}
	}

	private static void assertOneLine(ImageException e) {
		assertTrue(e.getMessage() != null && !e.getMessage().contains("\n") && e.getMessage().startsWith("fuzz"),
			e.getMessage());
	}

	/** What GptTable promises of a table it returns. */
	private static void checkPromises(GptTable t, long size) {
		long prevNumber = 0;
		List<Partition> ps = new ArrayList<>(t.partitions());
		for (Partition p : ps) {
			assertTrue(p.number() > prevNumber, "numbers rise");
			prevNumber = p.number();
			assertTrue(p.firstLba() >= t.firstUsableLba() && p.lastLba() <= t.lastUsableLba() && p.firstLba() <= p.lastLba(),
				p.toString());
			assertTrue(p.offset() >= 0 && p.offset() + p.length() <= size, p.toString());
			assertTrue(!p.type().equals(new UUID(0, 0)));
		}
		ps.sort((a, c) -> Long.compare(a.firstLba(), c.firstLba()));
		for (int i = 1; i < ps.size(); i++) {
			assertTrue(ps.get(i - 1).lastLba() < ps.get(i).firstLba(), "no overlap: " + ps);
		}
	}

	private static final long[] INTERESTING = { 0, 1, 2, 33, 34, -1, Integer.MAX_VALUE, 0x80000000L, 0xffffffffL, Long.MAX_VALUE,
		Long.MIN_VALUE, 128, 129, 1024, 1025, 4096 };

	/** Restores the base's table regions, then damages them at random. */
	private static void mutate(Base b, Random r) throws IOException {
		ByteBuffer head = ByteBuffer.wrap(b.head.clone()).order(ByteOrder.LITTLE_ENDIAN);
		ByteBuffer tail = ByteBuffer.wrap(b.tail.clone()).order(ByteOrder.LITTLE_ENDIAN);
		int ss = b.ss;
		int backupHeader = tail.capacity() - ss;
		int rounds = 1 + r.nextInt(3);
		for (int round = 0; round < rounds; round++) {
			boolean primary = r.nextInt(3) != 0;
			ByteBuffer region = primary ? head : tail;
			int hdr = primary ? ss : backupHeader;
			int entries = primary ? 2 * ss : backupHeader - 128 * 128;
			switch (r.nextInt(6)) {
				case 0 -> { // flip bytes anywhere in a header
					for (int i = 1 + r.nextInt(8); i > 0; i--) {
						int at = hdr + r.nextInt(92);
						region.put(at, (byte) (region.get(at) ^ (1 << r.nextInt(8))));
					}
				}
				case 1 -> { // an interesting value into a header field, CRC fixed or not
					int[] longs = { 24, 32, 40, 48, 72 };
					int[] ints = { 8, 12, 80, 84 };
					long v = interesting(r, b);
					if (r.nextBoolean()) {
						region.putLong(hdr + longs[r.nextInt(longs.length)], v);
					} else {
						region.putInt(hdr + ints[r.nextInt(ints.length)], (int) v);
					}
					if (r.nextInt(4) != 0) {
						fixHeader(region, hdr, entries, ss);
					}
				}
				case 2 -> { // an entry's fields, with both CRCs fixed
					int e = entries + 128 * r.nextInt(8);
					switch (r.nextInt(4)) {
						case 0 -> region.putLong(e + 32, interesting(r, b));
						case 1 -> region.putLong(e + 40, interesting(r, b));
						case 2 -> {
							List<UUID> types = List.of(UUID.fromString(Fixtures.type("root-x86-64")),
								UUID.fromString(Fixtures.type("root-x86-64-verity")), PartitionTypes.LINUX_GENERIC,
								UUID.fromString(Fixtures.type("usr-arm64")), new UUID(0, 0), new UUID(r.nextLong(), r.nextLong()));
							GptTable.putGuid(region, e, types.get(r.nextInt(types.size())));
						}
						default -> region.putLong(e + 48, r.nextLong());
					}
					fixHeader(region, hdr, entries, ss);
				}
				case 3 -> { // the protective MBR
					int at = 446 + r.nextInt(66);
					head.put(at, (byte) r.nextInt(256));
				}
				case 4 -> { // random bytes into the entry array, CRC fixed half the time
					for (int i = 1 + r.nextInt(16); i > 0; i--) {
						int at = entries + r.nextInt(8 * 128);
						region.put(at, (byte) r.nextInt(256));
					}
					if (r.nextBoolean()) {
						fixHeader(region, hdr, entries, ss);
					}
				}
				default -> { // an overlap or a shift: one entry's extent copied from another's
					int a = entries + 128 * r.nextInt(5);
					int c = entries + 128 * r.nextInt(5);
					region.putLong(a + 32, region.getLong(c + 32) + r.nextInt(5) - 2);
					fixHeader(region, hdr, entries, ss);
				}
			}
		}
		try (FileChannel ch = FileChannel.open(b.img, StandardOpenOption.WRITE)) {
			ch.write(head.clear(), 0);
			ch.write(tail.clear(), b.size - tail.capacity());
		}
	}

	private static long interesting(Random r, Base b) {
		long last = b.size / b.ss - 1;
		return switch (r.nextInt(4)) {
			case 0 -> last + r.nextInt(5) - 2;
			case 1 -> r.nextLong();
			default -> INTERESTING[r.nextInt(INTERESTING.length)];
		};
	}

	/** Recomputes the entries CRC (when the array is in this region) and the header CRC, within bounds. */
	private static void fixHeader(ByteBuffer region, int hdr, int entries, int ss) {
		long count = Integer.toUnsignedLong(region.getInt(hdr + 80));
		long size = Integer.toUnsignedLong(region.getInt(hdr + 84));
		if (count * size > 0 && entries + count * size <= region.capacity()) {
			byte[] arr = new byte[(int) (count * size)];
			region.get(entries, arr);
			region.putInt(hdr + 88, GptTable.crc32(arr, 0, arr.length));
		}
		int hs = region.getInt(hdr + 12);
		if (hs >= 92 && hs <= ss) {
			region.putInt(hdr + 16, 0);
			byte[] h = new byte[hs];
			region.get(hdr, h);
			region.putInt(hdr + 16, GptTable.crc32(h, 0, h.length));
		}
	}
}
