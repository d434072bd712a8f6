package org.llama4j.vision;

import com.fasterxml.jackson.databind.JsonNode;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.hf.HfModelFolder;

/**
 * What a checkpoint's config says about its vision tower, before the weights are looked at. Only the number of
 * heads, the LayerNorm epsilon and the RoPE base cannot be read off tensor shapes; every other value is optional
 * and, when present, must agree with the shapes ({@link #check}).
 *
 * @param source    where the values come from, for error messages
 * @param shuffle   1 / pixel_shuffle_ratio
 * @param textHidden the projector's output size (the text model's hidden size)
 */
record VisionHyperparameters(String source, int heads, float eps, double ropeTheta, Integer imageSize,
                             Integer patchSize, Integer hidden, Integer mlpDim, Integer layers, Integer shuffle,
                             Integer textHidden) {

    /** {@code vision_config} (and {@code text_config.hidden_size}) of an HF Llama 4 folder. */
    static VisionHyperparameters of(HfModelFolder f) {
        String source = f.dir().resolve(HfModelFolder.CONFIG) + ": vision_config";
        JsonNode vc = f.visionConfig().orElseThrow(() -> new ModelFormatException(
                f.dir().resolve(HfModelFolder.CONFIG) + ": no vision_config; this checkpoint has no vision tower"));
        if (!vc.path("num_attention_heads").canConvertToInt() || vc.get("num_attention_heads").asInt() <= 0) {
            throw new ModelFormatException(source + ".num_attention_heads is " + vc.get("num_attention_heads")
                    + ", expected a positive integer");
        }
        Integer shuffle = null;
        if (vc.has("pixel_shuffle_ratio")) {
            double ratio = vc.get("pixel_shuffle_ratio").asDouble();
            int s = ratio > 0 ? (int) Math.round(1 / ratio) : 0;
            if (s < 1 || Math.abs(ratio * s - 1) > 1e-6) {
                throw new ModelFormatException(source + ".pixel_shuffle_ratio " + vc.get("pixel_shuffle_ratio")
                        + " is not 1/n for a whole number n");
            }
            shuffle = s;
        }
        double theta = vc.path("rope_parameters").path("rope_theta").asDouble(vc.path("rope_theta").asDouble(10000.0));
        return new VisionHyperparameters(source, vc.get("num_attention_heads").asInt(),
                (float) vc.path("norm_eps").asDouble(1e-5), theta, optionalInt(vc, "image_size"),
                optionalInt(vc, "patch_size"), optionalInt(vc, "hidden_size"), optionalInt(vc, "intermediate_size"),
                optionalInt(vc, "num_hidden_layers"), shuffle, optionalInt(f.textConfig(), "hidden_size"));
    }

    private static Integer optionalInt(JsonNode node, String key) {
        return node.has(key) ? node.get(key).asInt() : null;
    }

    /** Fails unless {@code declared} is absent or equals {@code actual}, the value the weights imply. */
    void check(String key, Integer declared, int actual, String impliedBy) {
        if (declared != null && declared != actual) {
            throw new ModelFormatException(source + ": " + key + " is " + declared + " but " + impliedBy
                    + " implies " + actual);
        }
    }
}
