package org.llama4j.api;

import java.nio.file.Path;
import java.util.OptionalInt;
import org.llama4j.kernel.KernelMode;

/**
 * How {@link ChatModel#load(Path, LoadOptions)} loads a model beyond its path.
 *
 * @param mmproj        a separate vision-tower file (llama.cpp's mmproj GGUF) for a text-only GGUF, or null to use
 *                      the checkpoint's own vision tower where it has one (a Hugging Face folder with
 *                      {@code vision_config})
 * @param maxImageTiles the most local tiles an image is cut into, overriding {@code max_patches} of
 *                      {@code preprocessor_config.json}; 0 keeps the model's setting
 * @param weights       how the text model's weights are prepared (as stored, or quantized at load) and how its
 *                      products treat activations (exact, or 8-bit as llama.cpp)
 */
public record LoadOptions(Path mmproj, int maxImageTiles, org.llama4j.model.LoadOptions weights) {
    public LoadOptions {
        java.util.Objects.requireNonNull(weights, "weights");
        if (maxImageTiles < 0) {
            throw new IllegalArgumentException("max image tiles must be positive (or 0 for the model's setting), got "
                    + maxImageTiles);
        }
    }

    public static LoadOptions defaults() {
        return new LoadOptions(null, 0, org.llama4j.model.LoadOptions.DEFAULTS);
    }

    /** A vision tower from a llama.cpp mmproj GGUF; null for the checkpoint's own. */
    public LoadOptions withMmproj(Path file) {
        return new LoadOptions(file, maxImageTiles, weights);
    }

    public LoadOptions withMaxImageTiles(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("max image tiles must be positive, got " + n);
        }
        return new LoadOptions(mmproj, n, weights);
    }

    /** The text model's weights prepared as {@code w} says (e.g. {@code LoadOptions.quantizedTo(Q4_K_M)}). */
    public LoadOptions withWeights(org.llama4j.model.LoadOptions w) {
        return new LoadOptions(mmproj, maxImageTiles, w);
    }

    /**
     * The text model computing in {@code mode}: {@link KernelMode#EXACT} (the default) or
     * {@link KernelMode#Q8_ACTIVATIONS}; shorthand for {@code withWeights(weights().withActivations(mode))}.
     */
    public LoadOptions withActivations(KernelMode mode) {
        return withWeights(weights.withActivations(mode));
    }

    OptionalInt maxImageTilesOverride() {
        return maxImageTiles == 0 ? OptionalInt.empty() : OptionalInt.of(maxImageTiles);
    }
}
