package psi.format.raw.internal.squashfs;

/**
 * Where the metadata blocks of one table may lie: from {@code start} to
 * {@code end} (exclusive), offsets from the start of the squashfs.
 *
 * @param name the table's name in messages
 * @param start the first byte
 * @param end the first byte after
 */
record MetadataTable(String name, long start, long end) {
}
