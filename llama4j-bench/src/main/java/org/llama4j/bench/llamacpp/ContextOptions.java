package org.llama4j.bench.llamacpp;

/**
 * What a llama.cpp context is created with ({@code llama_context_params}); everything else keeps llama.cpp's default.
 *
 * @param contextLength  {@code n_ctx}: KV cache positions (llama.cpp may round it up)
 * @param batchSize      {@code n_batch}: most tokens one {@code llama_decode} call accepts (also: most output rows)
 * @param microBatchSize {@code n_ubatch}: the physical batch llama.cpp splits a call into
 * @param threads        {@code n_threads}: threads for single-token steps
 * @param batchThreads   {@code n_threads_batch}: threads for multi-token batches (prefill)
 * @param kvCacheType    K and V cache element type
 * @param flashAttention whether llama.cpp uses its flash-attention kernel
 */
public record ContextOptions(int contextLength, int batchSize, int microBatchSize, int threads, int batchThreads,
                             KvCacheType kvCacheType, FlashAttention flashAttention) {
    public ContextOptions {
        if (contextLength <= 0 || batchSize <= 0 || microBatchSize <= 0 || threads <= 0 || batchThreads <= 0) {
            throw new IllegalArgumentException("context sizes and thread counts must be positive: " + this);
        }
        if (kvCacheType == null || flashAttention == null) {
            throw new IllegalArgumentException("kvCacheType and flashAttention are required");
        }
    }

    /**
     * llama.cpp's own defaults (F16 KV cache, flash attention AUTO, micro-batch 512) for a context of
     * {@code contextLength} positions that accepts the whole context in one call, on {@code threads} threads.
     */
    public static ContextOptions defaults(int contextLength, int threads) {
        return new ContextOptions(contextLength, contextLength, Math.min(512, contextLength), threads, threads,
                KvCacheType.F16, FlashAttention.AUTO);
    }

    /** How the llama4-tiny goldens were made: F32 KV cache, flash attention off. */
    public static ContextOptions exact(int contextLength, int threads) {
        return defaults(contextLength, threads).withKvCacheType(KvCacheType.F32).withFlashAttention(FlashAttention.DISABLED);
    }

    public ContextOptions withKvCacheType(KvCacheType type) {
        return new ContextOptions(contextLength, batchSize, microBatchSize, threads, batchThreads, type, flashAttention);
    }

    public ContextOptions withFlashAttention(FlashAttention fa) {
        return new ContextOptions(contextLength, batchSize, microBatchSize, threads, batchThreads, kvCacheType, fa);
    }

    public ContextOptions withBatchSizes(int batch, int microBatch) {
        return new ContextOptions(contextLength, batch, microBatch, threads, batchThreads, kvCacheType, flashAttention);
    }

    public ContextOptions withThreads(int generation, int batch) {
        return new ContextOptions(contextLength, batchSize, microBatchSize, generation, batch, kvCacheType, flashAttention);
    }
}
