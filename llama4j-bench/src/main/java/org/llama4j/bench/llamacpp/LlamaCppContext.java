package org.llama4j.bench.llamacpp;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * A llama.cpp inference context: one sequence (id 0) in a KV cache, fed with {@code llama_decode}.
 *
 * <p>Tokens are appended at {@link #position()}; {@link #reset()} empties the cache. {@link #decode} returns
 * logits; {@link #evaluate} is the same call without copying logits out, for timing: it measures the wall time
 * of {@code llama_decode} + {@code llama_synchronize} and nothing else ({@link #lastEvaluateNanos()}), which is
 * how llama4j's own forward pass is timed for a comparison. Methods are synchronized; llama.cpp itself
 * parallelizes each call over {@link ContextOptions#threads()} threads.
 */
public final class LlamaCppContext implements AutoCloseable {
    private final LlamaCpp cpp;
    private final LlamaCppModel owner;
    private final ContextOptions options;
    private final Arena arena = Arena.ofShared();
    private MemorySegment ctx;
    private final int contextLength;
    private final int batchCapacity;
    private final int vocabSize;
    /** {@code struct llama_batch} as returned by {@code llama_batch_init}, freed with {@code llama_batch_free}. */
    private final MemorySegment batch;
    private final MemorySegment batchTokens;
    private final MemorySegment batchPositions;
    private final MemorySegment batchOutputs;
    private int position;
    private int lastBatchSize;
    private long lastEvaluateNanos;

    LlamaCppContext(LlamaCpp cpp, LlamaCppModel owner, MemorySegment model, ContextOptions options) {
        this.cpp = cpp;
        this.owner = owner;
        this.options = options;
        LlamaCpp.forgetRecentProblems();
        try {
            MemorySegment params = (MemorySegment) cpp.contextDefaultParams.invokeExact((SegmentAllocator) arena);
            setInt(params, "n_ctx", options.contextLength());
            setInt(params, "n_batch", options.batchSize());
            setInt(params, "n_ubatch", Math.min(options.microBatchSize(), options.batchSize()));
            setInt(params, "n_threads", options.threads());
            setInt(params, "n_threads_batch", options.batchThreads());
            setInt(params, "type_k", options.kvCacheType().ggmlType);
            setInt(params, "type_v", options.kvCacheType().ggmlType);
            setInt(params, "flash_attn_type", options.flashAttention().code);
            MemorySegment c = (MemorySegment) cpp.initFromModel.invokeExact(model, params);
            if (c.equals(MemorySegment.NULL)) {
                arena.close();
                throw new LlamaCppException("llama_init_from_model failed for " + options + LlamaCpp.recentProblems());
            }
            this.ctx = c;
            this.contextLength = (int) cpp.nCtx.invokeExact(c);
            this.batchCapacity = (int) cpp.nBatch.invokeExact(c);
            this.vocabSize = owner.vocabSize();

            this.batch = (MemorySegment) cpp.batchInit.invokeExact((SegmentAllocator) arena, batchCapacity, 0, 1);
            long n = batchCapacity;
            this.batchTokens = field(batch, "token").reinterpret(n * Integer.BYTES);
            this.batchPositions = field(batch, "pos").reinterpret(n * Integer.BYTES);
            this.batchOutputs = field(batch, "logits").reinterpret(n);
            MemorySegment nSeqId = field(batch, "n_seq_id").reinterpret(n * Integer.BYTES);
            MemorySegment seqIds = field(batch, "seq_id").reinterpret(n * ADDRESS.byteSize());
            // One sequence, id 0, for every slot: written once, llama_decode only reads them.
            for (int i = 0; i < batchCapacity; i++) {
                nSeqId.setAtIndex(JAVA_INT, i, 1);
                seqIds.getAtIndex(ADDRESS, i).reinterpret(Integer.BYTES).set(JAVA_INT, 0, 0);
            }
        } catch (Throwable t) {
            close(); // frees whatever was created before the failure
            if (t instanceof RuntimeException e) {
                throw e;
            }
            throw new LlamaCppException("creating a llama.cpp context failed", t);
        }
    }

    private static void setInt(MemorySegment params, String field, int value) {
        params.set(JAVA_INT, LlamaCpp.offset(LlamaCpp.CONTEXT_PARAMS, field), value);
    }

    private static MemorySegment field(MemorySegment batch, String name) {
        return batch.get(ADDRESS, LlamaCpp.offset(LlamaCpp.BATCH, name));
    }

    /**
     * Appends {@code tokens} at {@link #position()} in one {@code llama_decode} call (so at most
     * {@link #batchCapacity()} of them) and keeps logits of every position or only the last, for
     * {@link #logits(int)} / {@link #argmax(int)}. Does not copy logits out; times the call.
     */
    public synchronized void evaluate(int[] tokens, boolean allLogits) {
        if (tokens.length > batchCapacity) {
            throw new IllegalArgumentException(tokens.length + " tokens exceed the batch capacity " + batchCapacity
                    + " of one llama_decode call (raise ContextOptions.batchSize, or use decode, which splits)");
        }
        evaluate(tokens, 0, tokens.length, allLogits);
    }

    private void evaluate(int[] tokens, int from, int count, boolean allLogits) {
        MemorySegment c = handle();
        if (count == 0) {
            throw new IllegalArgumentException("no tokens to decode");
        }
        if (position + count > contextLength) {
            throw new IllegalArgumentException("context full: " + position + " + " + count + " tokens > n_ctx "
                    + contextLength);
        }
        for (int i = 0; i < count; i++) {
            int t = tokens[from + i];
            if (t < 0 || t >= vocabSize) {
                throw new IllegalArgumentException("token " + t + " outside the vocabulary [0, " + vocabSize + ")");
            }
            batchTokens.setAtIndex(JAVA_INT, i, t);
            batchPositions.setAtIndex(JAVA_INT, i, position + i);
            batchOutputs.set(JAVA_BYTE, i, (byte) (allLogits || i == count - 1 ? 1 : 0));
        }
        batch.set(JAVA_INT, LlamaCpp.offset(LlamaCpp.BATCH, "n_tokens"), count);
        LlamaCpp.forgetRecentProblems();
        int rc;
        long t0 = System.nanoTime();
        try {
            rc = (int) cpp.decode.invokeExact(c, batch);
            cpp.synchronize.invokeExact(c);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_decode failed", t);
        }
        lastEvaluateNanos = System.nanoTime() - t0;
        if (rc != 0) {
            String why = switch (rc) {
                case 1 -> "no KV cache slot for the batch";
                case 2 -> "aborted";
                case -1 -> "invalid batch";
                default -> "fatal error";
            };
            throw new LlamaCppException("llama_decode returned " + rc + " (" + why + ") for " + count
                    + " tokens at position " + position + LlamaCpp.recentProblems());
        }
        position += count;
        lastBatchSize = count;
    }

    /**
     * Appends {@code tokens} and returns logits: {@code float[tokens.length * vocabSize]} (row per position) when
     * {@code allLogits}, else {@code float[vocabSize]} of the last position. Splits into calls of at most
     * {@link #batchCapacity()} tokens.
     */
    public synchronized float[] decode(int[] tokens, boolean allLogits) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to decode");
        }
        // checked up front: a split call must not leave half of the tokens in the cache
        if (position + tokens.length > contextLength) {
            throw new IllegalArgumentException("context full: " + position + " + " + tokens.length
                    + " tokens > n_ctx " + contextLength);
        }
        float[] out = new float[(allLogits ? tokens.length : 1) * vocabSize];
        for (int from = 0; from < tokens.length; from += batchCapacity) {
            int count = Math.min(batchCapacity, tokens.length - from);
            evaluate(tokens, from, count, allLogits);
            if (allLogits) {
                for (int i = 0; i < count; i++) {
                    copyRow(i, out, (from + i) * vocabSize);
                }
            } else if (from + count == tokens.length) {
                copyRow(count - 1, out, 0);
            }
        }
        return out;
    }

    /** Logits of batch index {@code i} of the last call ({@code -1}: the last token); must have been requested. */
    public synchronized float[] logits(int i) {
        float[] out = new float[vocabSize];
        copyRow(i, out, 0);
        return out;
    }

    /** The highest-logit token at batch index {@code i} of the last call ({@code -1}: last), read in place. */
    public synchronized int argmax(int i) {
        MemorySegment row = row(i);
        int best = 0;
        float bestValue = row.getAtIndex(JAVA_FLOAT, 0);
        for (int v = 1; v < vocabSize; v++) {
            float x = row.getAtIndex(JAVA_FLOAT, v);
            if (x > bestValue) {
                bestValue = x;
                best = v;
            }
        }
        return best;
    }

    private void copyRow(int i, float[] dst, int offset) {
        MemorySegment.copy(row(i), JAVA_FLOAT, 0, dst, offset, vocabSize);
    }

    private MemorySegment row(int i) {
        MemorySegment c = handle();
        if (lastBatchSize == 0) {
            throw new IllegalStateException("no llama_decode call yet");
        }
        MemorySegment p;
        try {
            p = (MemorySegment) cpp.getLogitsIth.invokeExact(c, i);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_get_logits_ith failed", t);
        }
        if (p.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("no logits for batch index " + i + " of the last call ("
                    + lastBatchSize + " tokens; only requested positions have logits)" + LlamaCpp.recentProblems());
        }
        return p.reinterpret((long) vocabSize * Float.BYTES);
    }

    /** Empties the KV cache ({@code llama_memory_clear}); the next tokens go to position 0. */
    public synchronized void reset() {
        MemorySegment c = handle();
        try {
            MemorySegment memory = (MemorySegment) cpp.getMemory.invokeExact(c);
            cpp.memoryClear.invokeExact(memory, true);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_memory_clear failed", t);
        }
        position = 0;
        lastBatchSize = 0;
    }

    /** Changes the thread counts for single-token steps and for batches ({@code llama_set_n_threads}). */
    public synchronized void setThreads(int threads, int batchThreads) {
        if (threads <= 0 || batchThreads <= 0) {
            throw new IllegalArgumentException("thread counts must be positive");
        }
        try {
            cpp.setNThreads.invokeExact(handle(), threads, batchThreads);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_set_n_threads failed", t);
        }
    }

    public synchronized int threads() {
        try {
            return (int) cpp.nThreads.invokeExact(handle());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_n_threads failed", t);
        }
    }

    public synchronized int batchThreads() {
        try {
            return (int) cpp.nThreadsBatch.invokeExact(handle());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_n_threads_batch failed", t);
        }
    }

    /** Positions already in the KV cache: where the next token goes. */
    public synchronized int position() {
        return position;
    }

    /** {@code n_ctx} as llama.cpp created it (it may round the requested length up). */
    public int contextLength() {
        return contextLength;
    }

    /** {@code n_batch}: the most tokens one {@link #evaluate} call accepts. */
    public int batchCapacity() {
        return batchCapacity;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public ContextOptions options() {
        return options;
    }

    public LlamaCppModel model() {
        return owner;
    }

    /** Wall time of the last {@code llama_decode} + {@code llama_synchronize}, in nanoseconds. */
    public synchronized long lastEvaluateNanos() {
        return lastEvaluateNanos;
    }

    private MemorySegment handle() {
        if (ctx == null) {
            throw new IllegalStateException("llama.cpp context is closed");
        }
        return ctx;
    }

    @Override
    public synchronized void close() {
        if (ctx == null) {
            if (arena.scope().isAlive()) {
                arena.close();
            }
            return;
        }
        MemorySegment c = ctx;
        ctx = null;
        try {
            if (batch != null) {
                cpp.batchFree.invokeExact(batch);
            }
            cpp.free.invokeExact(c);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("freeing the llama.cpp context failed", t);
        } finally {
            arena.close();
            owner.contextClosed(this);
        }
    }
}
