package org.llama4j.model;

import java.util.Objects;
import java.util.Optional;
import org.llama4j.model.synthetic.QuantRecipe.FileType;

/**
 * How {@link Llama4Model#load(java.nio.file.Path, LoadOptions)} prepares the weights.
 *
 * @param quantization where present, the weights of a Hugging Face folder (bf16 or FP8) are quantized at load into
 *                     this file type's ggml types, chosen per tensor as llama.cpp's {@code llama-quantize} chooses
 *                     them (see {@link LoadTimeQuantizer}); empty: the checkpoint's own types, read in place
 */
public record LoadOptions(Optional<FileType> quantization) {
    /** The checkpoint's weights as stored, nothing converted. */
    public static final LoadOptions DEFAULTS = new LoadOptions(Optional.empty());

    public LoadOptions {
        Objects.requireNonNull(quantization, "quantization");
    }

    /** Quantize an HF folder's weights at load into {@code type}'s recipe. */
    public static LoadOptions quantizedTo(FileType type) {
        return new LoadOptions(Optional.of(type));
    }
}
