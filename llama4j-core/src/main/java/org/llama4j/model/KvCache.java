package org.llama4j.model;

import java.util.Arrays;

/**
 * Keys and values of past positions, shaped for Llama 4's interleaved attention (iRoPE).
 *
 * <p>A RoPE layer attends only within the current chunk of {@code attentionChunkSize} positions, so its cache is
 * a window of at most one chunk: position {@code p} lives in slot {@code p mod chunk}, and the first position of
 * a new chunk simply starts overwriting from slot 0 (everything older is invisible from then on). A NoPE layer
 * attends to the whole context, so its cache keeps every position, up to the context length. Storage grows on
 * demand (doubling), so a short conversation never allocates a full chunk or a full context. In a model without
 * chunked attention (Llama 3) every layer keeps the full history.
 *
 * <p>Each layer stores, per key/value head, {@code headDim} rows of slots ("dimension-major"), the layout the
 * {@link org.llama4j.kernel.Attention} kernel reads.
 */
public final class KvCache {
    private final Layer[] layers;
    private final int contextLength;

    public KvCache(Llama4Config config) {
        this(config, config.contextLength());
    }

    public KvCache(Llama4Config config, int contextLength) {
        this.contextLength = contextLength;
        this.layers = new Layer[config.layerCount()];
        for (int l = 0; l < layers.length; l++) {
            boolean chunked = config.chunksAttention(l);
            int window = chunked ? Math.min(config.attentionChunkSize(), contextLength) : contextLength;
            layers[l] = new Layer(config.kvHeadCount(), config.headDim(), window, chunked);
        }
    }

    public Layer layer(int index) {
        return layers[index];
    }

    public int contextLength() {
        return contextLength;
    }

    /** Positions stored so far: the position the next token of this sequence will occupy. */
    public int position() {
        return layers.length == 0 ? 0 : layers[0].nextPosition;
    }

    /** Bytes currently allocated for keys and values over all layers. */
    public long allocatedBytes() {
        long bytes = 0;
        for (Layer l : layers) {
            bytes += l.allocatedBytes();
        }
        return bytes;
    }

    /** The cache of one layer: a chunk-sized ring for RoPE layers, the full history for NoPE layers. */
    public static final class Layer {
        private final int kvHeads;
        private final int headDim;
        private final int window;
        private final boolean chunked;
        private float[][] keys;
        private float[][] values;
        private int capacity;
        private int nextPosition;

        Layer(int kvHeads, int headDim, int window, boolean chunked) {
            this.kvHeads = kvHeads;
            this.headDim = headDim;
            this.window = window;
            this.chunked = chunked;
            this.keys = new float[kvHeads][0];
            this.values = new float[kvHeads][0];
        }

        /** Whether this layer keeps only the current chunk. */
        public boolean chunked() {
            return chunked;
        }

        /** The most slots this layer will ever hold: the chunk size, or the context length. */
        public int window() {
            return window;
        }

        /** Slots allocated so far (never more than {@link #window()}). */
        public int capacity() {
            return capacity;
        }

        public long allocatedBytes() {
            return 2L * kvHeads * headDim * capacity * Float.BYTES;
        }

        /** The slot position {@code pos} occupies. */
        public int slot(int pos) {
            return chunked ? pos % window : pos;
        }

        /** Slots a query at {@code pos} attends to (slots 0 .. count-1), once {@code pos} is stored. */
        public int visibleCount(int pos) {
            return slot(pos) + 1;
        }

        /** Stride between the rows of one head's dimension-major storage. */
        public int stride() {
            return capacity;
        }

        /** Dimension-major keys of one key/value head: {@code keys(h)[d·stride() + slot]}. */
        public float[] keys(int kvHead) {
            return keys[kvHead];
        }

        public float[] values(int kvHead) {
            return values[kvHead];
        }

        /**
         * Stores the keys and values ({@code kvHeads·headDim} floats each) of position {@code pos}. Positions must
         * arrive in order, starting at 0.
         */
        public void store(int pos, float[] k, int kOff, float[] v, int vOff) {
            if (pos != nextPosition) {
                throw new IllegalStateException("KV cache expects position " + nextPosition + ", got " + pos);
            }
            if (!chunked && pos >= window) {
                throw new IllegalStateException("context length " + window + " exceeded at position " + pos);
            }
            int slot = slot(pos);
            if (slot >= capacity) {
                grow(Math.min(window, Math.max(slot + 1, Math.max(16, 2 * capacity))));
            }
            for (int h = 0; h < kvHeads; h++) {
                float[] kh = keys[h];
                float[] vh = values[h];
                for (int d = 0; d < headDim; d++) {
                    kh[d * capacity + slot] = k[kOff + h * headDim + d];
                    vh[d * capacity + slot] = v[vOff + h * headDim + d];
                }
            }
            nextPosition++;
        }

        private void grow(int newCapacity) {
            for (int h = 0; h < kvHeads; h++) {
                keys[h] = regrid(keys[h], newCapacity);
                values[h] = regrid(values[h], newCapacity);
            }
            capacity = newCapacity;
        }

        private float[] regrid(float[] old, int newCapacity) {
            float[] fresh = new float[headDim * newCapacity];
            for (int d = 0; d < headDim && capacity > 0; d++) {
                System.arraycopy(old, d * capacity, fresh, d * newCapacity, capacity);
            }
            return fresh;
        }

        void clear() {
            nextPosition = 0;
            capacity = 0;
            Arrays.setAll(keys, i -> new float[0]);
            Arrays.setAll(values, i -> new float[0]);
        }
    }

    /** Forgets everything, releasing the storage. */
    public void clear() {
        for (Layer l : layers) {
            l.clear();
        }
    }
}
