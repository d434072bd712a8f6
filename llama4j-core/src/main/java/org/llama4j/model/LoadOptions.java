package org.llama4j.model;

import java.util.Objects;
import java.util.Optional;
import org.llama4j.kernel.KernelMode;
import org.llama4j.model.synthetic.QuantRecipe.FileType;

/**
 * How {@link Llama4Model#load(java.nio.file.Path, LoadOptions)} prepares the weights and how the model computes.
 *
 * @param quantization where present, the weights of a Hugging Face folder (bf16 or FP8) are quantized at load into
 *                     this file type's ggml types, chosen per tensor as llama.cpp's {@code llama-quantize} chooses
 *                     them (see {@link LoadTimeQuantizer}); empty: the checkpoint's own types, read in place
 * @param activations  the loaded model's {@link Llama4Model#activations() activation mode}: {@link KernelMode#EXACT}
 *                     (the default), {@link KernelMode#Q8_ACTIVATIONS} (8-bit activations for quantized weights,
 *                     as llama.cpp computes) or {@link KernelMode#AUTO} (whichever is faster per product). The two
 *                     8-bit modes repack Q4_0 and Q4_K matrices for their integer kernel
 *                     ({@link org.llama4j.tensor.InterleavedQ4Tensor}) on each one's first use: a second copy of
 *                     those weights (the mapped originals' pages are released), built in about 2-3 s per GB on
 *                     2 cores
 */
public record LoadOptions(Optional<FileType> quantization, KernelMode activations) {
    /** The checkpoint's weights as stored, nothing converted, exact products. */
    public static final LoadOptions DEFAULTS = new LoadOptions(Optional.empty(), KernelMode.EXACT);

    public LoadOptions {
        Objects.requireNonNull(quantization, "quantization");
        Objects.requireNonNull(activations, "activations");
    }

    /** Quantize an HF folder's weights at load into {@code type}'s recipe (exact products). */
    public static LoadOptions quantizedTo(FileType type) {
        return DEFAULTS.withQuantization(type);
    }

    /** These options with the weights quantized at load into {@code type}'s recipe. */
    public LoadOptions withQuantization(FileType type) {
        return new LoadOptions(Optional.of(type), activations);
    }

    /** These options with the model computing in {@code mode}. */
    public LoadOptions withActivations(KernelMode mode) {
        return new LoadOptions(quantization, mode);
    }
}
