package org.llama4j.model;

import java.util.Arrays;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;

/**
 * One conversation with a {@link Llama4Model}: the tokens seen so far live in a {@link KvCache}, new tokens are
 * either ingested as a batch (prefill) or decoded one at a time. Both paths run the same forward pass, so they
 * give the same logits up to float rounding.
 */
public final class InferenceSession implements AutoCloseable {
    /** Prompts are processed in batches of at most this many tokens, bounding the activation memory. */
    public static final int DEFAULT_BATCH = 512;

    private final Llama4Model model;
    private final KvCache cache;
    private final int batchSize;
    private ForwardListener listener = ForwardListener.NONE;
    private int position;
    private boolean closed;

    public InferenceSession(Llama4Model model, KvCache cache) {
        this(model, cache, DEFAULT_BATCH);
    }

    public InferenceSession(Llama4Model model, KvCache cache, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive");
        }
        this.model = model;
        this.cache = cache;
        this.batchSize = batchSize;
    }

    /** Number of tokens processed so far: the position the next token will occupy. */
    public int position() {
        return position;
    }

    public int contextLength() {
        return cache.contextLength();
    }

    public KvCache cache() {
        return cache;
    }

    /** Observes every following forward pass (hidden states, routing); {@link ForwardListener#NONE} to stop. */
    public void setListener(ForwardListener listener) {
        this.listener = listener;
    }

    /** Prefills {@code tokens} and returns the logits after the last one. */
    public float[] ingest(int[] tokens) {
        return ingestFused(tokens, null);
    }

    /**
     * Prefills {@code tokens} with early fusion ({@link #ingest(int[], IntPredicate, IntFunction)}) and returns the
     * logits after the last one.
     */
    public float[] ingestFused(int[] tokens, IntFunction<float[]> inputEmbeddings) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("nothing to ingest");
        }
        int last = position + tokens.length - 1;
        float[][] logits = ingest(tokens, p -> p == last, inputEmbeddings);
        return logits[tokens.length - 1];
    }

    /** Prefills {@code tokens} and returns the logits after every one of them. */
    public float[][] ingestAll(int[] tokens) {
        return ingest(tokens, p -> true);
    }

    /**
     * Prefills {@code tokens}, returning logits for the absolute positions {@code logitsAt} accepts ({@code null}
     * elsewhere), indexed like {@code tokens}.
     */
    public float[][] ingest(int[] tokens, IntPredicate logitsAt) {
        return ingest(tokens, logitsAt, null);
    }

    /**
     * Like {@link #ingest(int[], IntPredicate)} with early fusion: {@code inputEmbeddings} maps an absolute position
     * to the row that replaces its token embedding (an image patch), or null for the token embedding; a null
     * function means text only.
     */
    public float[][] ingest(int[] tokens, IntPredicate logitsAt, IntFunction<float[]> inputEmbeddings) {
        ensureOpen();
        if (position + tokens.length > cache.contextLength()) {
            throw new IllegalStateException("context length " + cache.contextLength() + " exceeded: "
                    + position + " tokens already, " + tokens.length + " more requested");
        }
        float[][] logits = new float[tokens.length][];
        for (int from = 0; from < tokens.length; from += batchSize) {
            int to = Math.min(tokens.length, from + batchSize);
            float[][] part = model.forward(Arrays.copyOfRange(tokens, from, to), position, cache, logitsAt, listener,
                    inputEmbeddings);
            System.arraycopy(part, 0, logits, from, to - from);
            position += to - from;
        }
        return logits;
    }

    /** Feeds one token (the previous step's choice) and returns the logits for the next. */
    public float[] decode(int token) {
        return ingest(new int[] {token});
    }

    @Override
    public void close() {
        closed = true;
        cache.clear();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("session is closed");
        }
    }
}
