package org.llama4j.tokenizer;

import java.util.Arrays;

/** A growable {@code int[]} without boxing, for collecting token ids. */
final class IntBuffer {
    private int[] items;
    private int size;

    IntBuffer(int capacity) {
        items = new int[Math.max(8, capacity)];
    }

    void add(int v) {
        if (size == items.length) {
            items = Arrays.copyOf(items, size + (size >> 1) + 8);
        }
        items[size++] = v;
    }

    int size() {
        return size;
    }

    int[] toArray() {
        return Arrays.copyOf(items, size);
    }
}
