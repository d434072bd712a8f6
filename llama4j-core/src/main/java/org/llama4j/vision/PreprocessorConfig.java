package org.llama4j.vision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.llama4j.format.ModelFormatException;

/**
 * Image preprocessing settings: the square tile size, the maximum number of local tiles ({@code max_patches} in
 * Hugging Face's {@code preprocessor_config.json}, Meta's {@code max_num_chunks}) and the per-channel normalisation.
 */
public record PreprocessorConfig(int tileSize, int maxPatches, float[] mean, float[] std) {
    /** Meta's {@code ChatFormat} default and Hugging Face's {@code Llama4ImageProcessor} default. */
    public static final int DEFAULT_MAX_PATCHES = 16;
    private static final float[] HALF = {0.5f, 0.5f, 0.5f};

    public PreprocessorConfig {
        if (tileSize <= 0) {
            throw new IllegalArgumentException("tile size must be positive, got " + tileSize);
        }
        if (maxPatches <= 0) {
            throw new IllegalArgumentException("max_patches must be positive, got " + maxPatches);
        }
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 channels, got " + mean.length + " and " + std.length);
        }
        for (float s : std) {
            if (!(s > 0) || !Float.isFinite(s)) {
                throw new IllegalArgumentException("std must be positive and finite, got " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** Llama 4's settings (mean = std = 0.5, 16 tiles) for a given tile size. */
    public static PreprocessorConfig defaults(int tileSize) {
        return new PreprocessorConfig(tileSize, DEFAULT_MAX_PATCHES, HALF, HALF);
    }

    /**
     * Reads {@code preprocessor_config.json}. The tile size the vision weights imply wins over the file's
     * {@code size} (a processor config that disagrees with the weights cannot be used as it says); the file's
     * {@code size} must still be square.
     */
    public static PreprocessorConfig read(Path json, int tileSizeFromWeights) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(json + ": cannot parse preprocessor config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(json + ": expected a JSON object");
        }
        JsonNode size = root.path("size");
        if (size.isObject() && size.has("height") && size.has("width")
                && size.get("height").asInt() != size.get("width").asInt()) {
            throw new ModelFormatException(json + ": size " + size + " is not square; Llama 4 tiles are square");
        }
        int maxPatches = DEFAULT_MAX_PATCHES;
        if (root.has("max_patches")) {
            JsonNode m = root.get("max_patches");
            if (!m.canConvertToInt() || m.asInt() <= 0) {
                throw new ModelFormatException(json + ": max_patches must be a positive integer, got " + m);
            }
            maxPatches = m.asInt();
        }
        float[] mean = channels(json, root, "image_mean", HALF);
        float[] std = channels(json, root, "image_std", HALF);
        if (root.path("do_normalize").isBoolean() && !root.get("do_normalize").asBoolean()) {
            mean = new float[3];
            std = new float[] {1, 1, 1};
        }
        try {
            return new PreprocessorConfig(tileSizeFromWeights, maxPatches, mean, std);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(json + ": " + e.getMessage(), e);
        }
    }

    private static float[] channels(Path json, JsonNode root, String key, float[] dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isArray() || n.size() != 3) {
            throw new ModelFormatException(json + ": " + key + " must be an array of 3 numbers, got " + n);
        }
        float[] v = new float[3];
        for (int i = 0; i < 3; i++) {
            if (!n.get(i).isNumber()) {
                throw new ModelFormatException(json + ": " + key + "[" + i + "] is not a number: " + n.get(i));
            }
            v[i] = (float) n.get(i).asDouble();
        }
        return v;
    }

    public PreprocessorConfig withMaxPatches(int maxPatches) {
        return new PreprocessorConfig(tileSize, maxPatches, mean, std);
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PreprocessorConfig p && p.tileSize == tileSize && p.maxPatches == maxPatches
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * tileSize + maxPatches) + Arrays.hashCode(mean) * 7 + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "PreprocessorConfig[tileSize=" + tileSize + ", maxPatches=" + maxPatches + ", mean="
                + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
