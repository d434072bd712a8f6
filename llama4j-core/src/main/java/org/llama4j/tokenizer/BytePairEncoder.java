package org.llama4j.tokenizer;

import java.util.Arrays;

/**
 * tiktoken's byte-level BPE over a table of ranked byte strings: a piece is split into single bytes and the
 * adjacent pair whose concatenation has the lowest rank is merged (leftmost on ties) until no adjacent pair
 * concatenates to a token. The rank of a token is its id.
 *
 * <p>Short pieces use tiktoken's own array algorithm (quadratic, but fastest for the common case of a few
 * bytes); long pieces use a min-heap of candidate pairs with lazy invalidation over a linked list of parts,
 * which is {@code O(n log n)} and picks exactly the same merges in the same order.
 */
final class BytePairEncoder {
    private static final int HEAP_THRESHOLD = 128;
    private static final int NONE = Integer.MAX_VALUE;

    private final byte[] tokenBytes;   // all tokens' bytes, concatenated by rank
    private final int[] tokenOffsets;  // token r is tokenBytes[tokenOffsets[r], tokenOffsets[r + 1])
    private final int[] table;         // open addressing: rank + 1, 0 = empty
    private final int mask;

    /** @param ranked token byte strings in rank order; must be distinct and contain all 256 single bytes. */
    BytePairEncoder(byte[][] ranked) {
        int total = 0;
        for (byte[] b : ranked) {
            total += b.length;
        }
        tokenBytes = new byte[total];
        tokenOffsets = new int[ranked.length + 1];
        int at = 0;
        for (int r = 0; r < ranked.length; r++) {
            System.arraycopy(ranked[r], 0, tokenBytes, at, ranked[r].length);
            at += ranked[r].length;
            tokenOffsets[r + 1] = at;
        }
        int capacity = Integer.highestOneBit(Math.max(4, ranked.length * 2 - 1)) << 1;
        table = new int[capacity];
        mask = capacity - 1;
        for (int r = 0; r < ranked.length; r++) {
            byte[] b = ranked[r];
            if (b.length == 0) {
                throw new IllegalArgumentException("token with rank " + r + " is empty");
            }
            int existing = rank(b, 0, b.length);
            if (existing != NONE) {
                throw new IllegalArgumentException("tokens with ranks " + existing + " and " + r
                        + " have the same bytes " + HexFormatting.bytes(b));
            }
            int slot = hash(b, 0, b.length) & mask;
            while (table[slot] != 0) {
                slot = (slot + 1) & mask;
            }
            table[slot] = r + 1;
        }
        for (int v = 0; v < 256; v++) {
            if (rank(new byte[] {(byte) v}, 0, 1) == NONE) {
                throw new IllegalArgumentException("the vocabulary lacks the single byte 0x"
                        + String.format("%02X", v) + ": byte-level BPE could not encode every input");
            }
        }
    }

    int size() {
        return tokenOffsets.length - 1;
    }

    byte[] bytesOf(int rank) {
        return Arrays.copyOfRange(tokenBytes, tokenOffsets[rank], tokenOffsets[rank + 1]);
    }

    int lengthOf(int rank) {
        return tokenOffsets[rank + 1] - tokenOffsets[rank];
    }

    void copyBytes(int rank, byte[] dst, int at) {
        System.arraycopy(tokenBytes, tokenOffsets[rank], dst, at, lengthOf(rank));
    }

    /** The rank of {@code bytes[from, to)}, or {@link Integer#MAX_VALUE} when it is not a token. */
    int rank(byte[] bytes, int from, int to) {
        int len = to - from;
        int slot = hash(bytes, from, to) & mask;
        for (int entry; (entry = table[slot]) != 0; slot = (slot + 1) & mask) {
            int r = entry - 1;
            int off = tokenOffsets[r];
            if (tokenOffsets[r + 1] - off == len
                    && Arrays.equals(tokenBytes, off, off + len, bytes, from, to)) {
                return r;
            }
        }
        return NONE;
    }

    private static int hash(byte[] b, int from, int to) {
        int h = 0x811C9DC5;
        for (int i = from; i < to; i++) {
            h = (h ^ b[i]) * 0x01000193;
        }
        return h ^ (h >>> 15) ^ (h >>> 7);
    }

    /** Appends the ranks encoding {@code piece[0, n)} to {@code out}. */
    void encode(byte[] piece, int n, IntBuffer out) {
        int whole = rank(piece, 0, n);
        if (whole != NONE) {
            out.add(whole);
        } else if (n < HEAP_THRESHOLD) {
            mergeSmall(piece, n, out);
        } else {
            mergeLarge(piece, n, out);
        }
    }

    /** tiktoken's {@code byte_pair_merge}: parts as start offsets, each with the rank of it merged with its successor. */
    private void mergeSmall(byte[] piece, int n, IntBuffer out) {
        int[] starts = new int[n + 1];
        int[] ranks = new int[n + 1];
        int parts = n + 1; // n single-byte parts plus the end sentinel
        for (int i = 0; i <= n; i++) {
            starts[i] = i;
        }
        for (int i = 0; i < n - 1; i++) {
            ranks[i] = rank(piece, i, i + 2);
        }
        ranks[n - 1] = NONE;
        ranks[n] = NONE;
        while (parts > 2) {
            int min = NONE;
            int at = -1;
            for (int i = 0; i < parts - 2; i++) {
                if (ranks[i] < min) {
                    min = ranks[i];
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            // Part at+1 disappears; the pairs starting at at-1 and at change.
            System.arraycopy(starts, at + 2, starts, at + 1, parts - at - 2);
            System.arraycopy(ranks, at + 2, ranks, at + 1, parts - at - 2);
            parts--;
            ranks[at] = at + 2 < parts ? rank(piece, starts[at], starts[at + 2]) : NONE;
            if (at > 0) {
                ranks[at - 1] = rank(piece, starts[at - 1], starts[at + 1]);
            }
        }
        for (int i = 0; i < parts - 1; i++) {
            out.add(rank(piece, starts[i], starts[i + 1]));
        }
    }

    /**
     * The same merge order with a heap of (rank, start) candidates. A candidate is stale when its left part was
     * merged away or its pair's rank changed; a pair's span only ever grows, so an equal rank means the same pair.
     */
    private void mergeLarge(byte[] piece, int n, IntBuffer out) {
        int[] next = new int[n + 1];
        int[] prev = new int[n + 1];
        int[] pairRank = new int[n + 1];
        boolean[] dead = new boolean[n + 1];
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i <= n; i++) {
            next[i] = i + 1;
            prev[i] = i - 1;
        }
        for (int i = 0; i < n - 1; i++) {
            pairRank[i] = rank(piece, i, i + 2);
            if (pairRank[i] != NONE) {
                heap.push(((long) pairRank[i] << 32) | i);
            }
        }
        pairRank[n - 1] = NONE;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int r = (int) (top >>> 32);
            int at = (int) top;
            if (dead[at] || pairRank[at] != r) {
                continue;
            }
            int removed = next[at];
            dead[removed] = true;
            next[at] = next[removed];
            prev[next[at]] = at;
            int after = next[at];
            pairRank[at] = after < n ? rank(piece, at, next[after]) : NONE;
            if (pairRank[at] != NONE) {
                heap.push(((long) pairRank[at] << 32) | at);
            }
            int before = prev[at];
            if (before >= 0) {
                pairRank[before] = rank(piece, before, after);
                if (pairRank[before] != NONE) {
                    heap.push(((long) pairRank[before] << 32) | before);
                }
            }
        }
        for (int i = 0; i < n; i = next[i]) {
            out.add(rank(piece, i, next[i]));
        }
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] items;
        private int size;

        LongHeap(int capacity) {
            items = new long[Math.max(16, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (items[parent] <= v) {
                    break;
                }
                items[i] = items[parent];
                i = parent;
            }
            items[i] = v;
        }

        long pop() {
            long top = items[0];
            long last = items[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && items[child + 1] < items[child]) {
                    child++;
                }
                if (items[child] >= last) {
                    break;
                }
                items[i] = items[child];
                i = child;
            }
            items[i] = last;
            return top;
        }
    }
}
