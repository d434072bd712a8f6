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
    Q8_ACTIVATIONS
}
