package org.llama4j.tokenizer.sentencepiece;

import org.llama4j.format.ModelFormatException;

/**
 * SentencePiece's precompiled character map: the normalization rules of e.g. {@code nmt_nfkc} compiled into a
 * darts-clone double-array trie over UTF-8 byte strings, whose values are offsets into a pool of NUL-terminated
 * replacement strings.
 *
 * <p>Blob layout: a little-endian uint32 {@code trieBytes}, then {@code trieBytes / 4} little-endian uint32 trie
 * units, then the replacement pool. A unit packs: bit 8 "has leaf", bits 0..7 the label (with bit 31 set on leaf
 * units, so a leaf never matches a label), bits 10..31 the offset to the children (shifted left by 8 more when bit
 * 9 is set); a leaf unit's low 31 bits hold the value.
 */
public final class PrecompiledCharsmap {
    /** Sentencepiece looks at no more than this many prefix matches per position (they come shortest first). */
    private static final int MAX_MATCHES = 32;

    private final int[] units;
    private final byte[] pool;

    private PrecompiledCharsmap(int[] units, byte[] pool) {
        this.units = units;
        this.pool = pool;
    }

    public static PrecompiledCharsmap parse(byte[] blob, String source) {
        if (blob.length < 4) {
            throw new ModelFormatException(source + ": precompiled charsmap of " + blob.length
                    + " bytes is too short for its 4-byte trie size");
        }
        long trieBytes = Integer.toUnsignedLong(le32(blob, 0));
        if (trieBytes % 4 != 0 || trieBytes == 0 || trieBytes > blob.length - 4) {
            throw new ModelFormatException(source + ": precompiled charsmap declares a trie of " + trieBytes
                    + " bytes, but " + (blob.length - 4) + " bytes follow (must be a positive multiple of 4 that fits)");
        }
        int[] units = new int[(int) (trieBytes / 4)];
        for (int i = 0; i < units.length; i++) {
            units[i] = le32(blob, 4 + 4 * i);
        }
        byte[] pool = java.util.Arrays.copyOfRange(blob, 4 + (int) trieBytes, blob.length);
        return new PrecompiledCharsmap(units, pool);
    }

    private static int le32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }

    private static boolean hasLeaf(int unit) {
        return ((unit >>> 8) & 1) == 1;
    }

    private static int value(int unit) {
        return unit & 0x7fffffff;
    }

    private static int label(int unit) {
        return unit & 0x800000ff;
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }

    /**
     * The longest rule matching a prefix of {@code key[from, to)}: {@code (matchedBytes << 32) | poolOffset}, or
     * -1 when no rule matches (the character is then kept as it is).
     */
    public long longestMatch(byte[] key, int from, int to) {
        int id = offset(units[0]);
        int matches = 0;
        long best = -1;
        for (int i = from; i < to; i++) {
            int c = key[i] & 0xff;
            id ^= c;
            if (id < 0 || id >= units.length) {
                return best;
            }
            int unit = units[id];
            if (label(unit) != c) {
                return best;
            }
            id ^= offset(unit);
            if (hasLeaf(unit)) {
                if (id < 0 || id >= units.length) {
                    throw new ModelFormatException("precompiled charsmap: leaf unit " + id + " is outside the trie of "
                            + units.length + " units");
                }
                if (matches++ < MAX_MATCHES) {
                    best = (long) (i + 1 - from) << 32 | value(units[id]);
                }
            }
        }
        return best;
    }

    /** Appends the NUL-terminated replacement at {@code poolOffset} to {@code out}. */
    void appendReplacement(int poolOffset, ByteBuilder out) {
        if (poolOffset < 0 || poolOffset >= pool.length) {
            throw new ModelFormatException("precompiled charsmap: replacement offset " + poolOffset
                    + " is outside the pool of " + pool.length + " bytes");
        }
        int end = poolOffset;
        while (end < pool.length && pool[end] != 0) {
            end++;
        }
        out.append(pool, poolOffset, end - poolOffset);
    }
}
