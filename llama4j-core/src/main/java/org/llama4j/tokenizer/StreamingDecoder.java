package org.llama4j.tokenizer;

import java.util.Arrays;

/**
 * Turns ids that arrive one at a time into text deltas. A token may end inside a multi-byte UTF-8 character
 * (byte-level BPE splits emoji and CJK across tokens), so the bytes of an incomplete character are held back
 * until it completes; bytes become U+FFFD only once they provably cannot start a valid character. The
 * concatenation of all deltas and {@link #flush()} equals {@link Tokenizer#decode} of all ids. Not thread-safe.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private byte[] pending = new byte[16];
    private int pendingLength;

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds one id; returns the text that is now complete (possibly empty). */
    public String accept(int id) {
        int length = tokenizer.tokenLength(id);
        if (pending.length < pendingLength + length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + length));
        }
        pendingLength = tokenizer.appendBytes(id, pending, pendingLength);
        StringBuilder delta = new StringBuilder(pendingLength);
        int consumed = Utf8.decode(pending, 0, pendingLength, delta, false);
        System.arraycopy(pending, consumed, pending, 0, pendingLength - consumed);
        pendingLength -= consumed;
        return delta.toString();
    }

    /** True when bytes of an incomplete character are held back. */
    public boolean hasPending() {
        return pendingLength > 0;
    }

    /** Ends the stream: held-back bytes of a character that never completed become U+FFFD. */
    public String flush() {
        StringBuilder rest = new StringBuilder();
        Utf8.decode(pending, 0, pendingLength, rest, true);
        pendingLength = 0;
        return rest.toString();
    }
}
