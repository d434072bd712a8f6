package org.llama4j.kernel;

/** How a matrix product computes with quantized weights. */
public enum KernelMode {
    /**
     * Float activations times exactly decoded weights, accumulated in float32: equal to the scalar reference
     * ({@link org.llama4j.tensor.Tensor#dotRow}) up to summation order. For logits and exactness tests.
     */
    EXACT,
    /**
     * Activations quantized to 8 bits once per product and integer dot products per weight group, as llama.cpp
     * computes ({@link org.llama4j.tensor.Q8Activations}); float weights (F32/F16/BF16) and tensors without
     * integer codes use {@link #EXACT}.
     */
    Q8_ACTIVATIONS,
    /**
     * The faster of the two per product, as measured on this engine's kernels: 8-bit activations where an integer
     * kernel beats the float one ({@link org.llama4j.tensor.InterleavedQ4Tensor Q4_0 and Q4_K, repacked}, for up
     * to {@link Kernels#INTERLEAVED_AUTO_MAX_BATCH} vectors: decode and small MoE expert batches), {@link #EXACT}
     * everywhere else (other types, where llama4j's row-wise integer kernels are slower than its float ones, and
     * large prefill batches, where the float register tiles win). Each product is computed exactly as in one of
     * the two other modes, so both modes' checks cover it.
     */
    AUTO
}
