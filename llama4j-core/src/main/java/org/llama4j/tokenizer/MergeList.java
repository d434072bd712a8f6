package org.llama4j.tokenizer;

import java.util.Arrays;

/**
 * A BPE merge list decoded from {@link ByteLevelAlphabet} form into one byte array, each merge's left bytes
 * followed by its right bytes, so that the merged token is a slice and a 440k-merge list costs no per-merge
 * objects. A merge with a character outside the alphabet is kept as an empty slot, and the first such merge is
 * remembered (with its text) for {@link ByteLevelVocabulary#verifyMerges} to report in list order.
 */
final class MergeList {
    private byte[] data = new byte[1 << 16];
    private int length;
    private int[] ends = new int[1 << 12]; // ends[2i]: end of merge i's left part, ends[2i + 1]: end of its right part
    private int size;
    private int badIndex = -1;
    private String badLeft;
    private String badRight;

    private int pendingStart;
    private int pendingLeftEnd;
    private String pendingBadLeft;

    /** Starts a merge with its left part, {@code c[off, off + len)} in alphabet form. */
    void left(char[] c, int off, int len) {
        pendingStart = length;
        if (append(c, off, len)) {
            pendingBadLeft = null;
        } else {
            length = pendingStart;
            pendingBadLeft = new String(c, off, len);
        }
        pendingLeftEnd = length;
    }

    /** Ends the merge {@link #left} started with its right part. */
    void right(char[] c, int off, int len) {
        boolean ok = pendingBadLeft == null && append(c, off, len);
        if (size * 2 + 2 > ends.length) {
            ends = Arrays.copyOf(ends, ends.length * 2);
        }
        if (!ok) {
            if (badIndex < 0) {
                badIndex = size;
                badLeft = pendingBadLeft != null ? pendingBadLeft : ByteLevelAlphabet.encode(data, pendingStart, pendingLeftEnd);
                badRight = new String(c, off, len);
            }
            length = pendingStart;
            pendingLeftEnd = pendingStart;
        }
        ends[size * 2] = pendingLeftEnd;
        ends[size * 2 + 1] = length;
        size++;
    }

    void add(String left, String right) {
        left(left.toCharArray(), 0, left.length());
        right(right.toCharArray(), 0, right.length());
    }

    /** The left part {@link #left} was given, as written, before {@link #right} ends the merge. */
    String pendingLeftText() {
        return pendingBadLeft != null ? pendingBadLeft : ByteLevelAlphabet.encode(data, pendingStart, pendingLeftEnd);
    }

    /** Takes back the last merge; returns its two parts as written. */
    String[] removeLast() {
        int i = size - 1;
        String[] pair;
        if (i == badIndex) {
            pair = new String[] {badLeft, badRight};
            badIndex = -1;
            badLeft = null;
            badRight = null;
        } else {
            pair = new String[] {ByteLevelAlphabet.encode(data, start(i), ends[2 * i]),
                ByteLevelAlphabet.encode(data, ends[2 * i], ends[2 * i + 1])};
        }
        length = start(i);
        size = i;
        return pair;
    }

    private boolean append(char[] c, int off, int len) {
        if (length + len > data.length) {
            data = Arrays.copyOf(data, Math.max(data.length * 2, length + len));
        }
        for (int i = 0; i < len; i++) {
            int b = ByteLevelAlphabet.byteOf(c[off + i]);
            if (b < 0) {
                return false;
            }
            data[length++] = (byte) b;
        }
        return true;
    }

    int size() {
        return size;
    }

    /** The first merge with a character outside the alphabet, or -1. */
    int badIndex() {
        return badIndex;
    }

    /** Merge {@code i}'s text, "left right", as the file wrote it. */
    String text(int i) {
        if (i == badIndex) {
            return badLeft + " " + badRight;
        }
        return ByteLevelAlphabet.encode(data, start(i), ends[2 * i]) + " "
                + ByteLevelAlphabet.encode(data, ends[2 * i], ends[2 * i + 1]);
    }

    byte[] data() {
        return data;
    }

    /** Where merge {@code i}'s bytes (left then right) start in {@link #data}. */
    int start(int i) {
        return i == 0 ? 0 : ends[2 * i - 1];
    }

    /** Where merge {@code i}'s bytes end in {@link #data}. */
    int end(int i) {
        return ends[2 * i + 1];
    }
}
