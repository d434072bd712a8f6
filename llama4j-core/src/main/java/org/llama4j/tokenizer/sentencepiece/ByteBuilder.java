package org.llama4j.tokenizer.sentencepiece;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte array (UTF-8 text under construction). */
final class ByteBuilder {
    private byte[] bytes;
    private int size;

    ByteBuilder(int capacity) {
        bytes = new byte[Math.max(16, capacity)];
    }

    void append(byte[] src, int from, int len) {
        ensure(len);
        System.arraycopy(src, from, bytes, size, len);
        size += len;
    }

    void append(byte b) {
        ensure(1);
        bytes[size++] = b;
    }

    int size() {
        return size;
    }

    byte byteAt(int i) {
        return bytes[i];
    }

    boolean endsWith(byte[] suffix) {
        if (size < suffix.length) {
            return false;
        }
        return Arrays.equals(bytes, size - suffix.length, size, suffix, 0, suffix.length);
    }

    void truncate(int newSize) {
        size = newSize;
    }

    @Override
    public String toString() {
        return new String(bytes, 0, size, StandardCharsets.UTF_8);
    }

    private void ensure(int extra) {
        if (size + extra > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + extra));
        }
    }
}
