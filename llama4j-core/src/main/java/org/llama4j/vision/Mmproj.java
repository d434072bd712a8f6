package org.llama4j.vision;

import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufFile;

/**
 * llama.cpp's multimodal projector file ("mmproj" GGUF) for Llama 4: the vision tower and projector in a GGUF of
 * its own, passed beside the text model. The metadata keys below are those llama.cpp's converter writes
 * ({@code convert_hf_to_gguf.py}: {@code MmprojModel} + {@code Llama4VisionModel}) and {@code tools/mtmd/clip.cpp}
 * reads; tensor names are in {@link VisionTensorNames#MMPROJ}.
 *
 * <p>Not in the file: the RoPE base (clip.cpp hard-codes 10000 for {@code llama4}, as do the released configs),
 * and the number of local tiles (clip.cpp has its own slicing rules; llama4j uses Meta's, {@link PreprocessorConfig}).
 */
public final class Mmproj {
    public static final String ARCHITECTURE = "general.architecture";
    /** {@code general.architecture} of every mmproj file (clip.cpp's dummy architecture). */
    public static final String CLIP = "clip";
    public static final String TYPE = "general.type";
    public static final String FILE_TYPE = "general.file_type";
    public static final String NAME = "general.name";
    public static final String HAS_VISION_ENCODER = "clip.has_vision_encoder";
    public static final String PROJECTOR_TYPE = "clip.projector_type";
    /** {@code clip.projector_type} of Llama 4. */
    public static final String LLAMA4 = "llama4";
    public static final String USE_GELU = "clip.use_gelu";
    public static final String PROJECTION_DIM = "clip.vision.projection_dim";
    public static final String IMAGE_SIZE = "clip.vision.image_size";
    public static final String PATCH_SIZE = "clip.vision.patch_size";
    public static final String EMBEDDING_LENGTH = "clip.vision.embedding_length";
    public static final String FEED_FORWARD_LENGTH = "clip.vision.feed_forward_length";
    public static final String BLOCK_COUNT = "clip.vision.block_count";
    public static final String HEAD_COUNT = "clip.vision.attention.head_count";
    public static final String LAYER_NORM_EPSILON = "clip.vision.attention.layer_norm_epsilon";
    public static final String IMAGE_MEAN = "clip.vision.image_mean";
    public static final String IMAGE_STD = "clip.vision.image_std";
    /** 1 / pixel_shuffle_ratio (clip.cpp's {@code n_merge}). */
    public static final String SCALE_FACTOR = "clip.vision.projector.scale_factor";
    /** clip.cpp's fixed RoPE base for {@code llama4} (there is no key for it). */
    public static final double ROPE_THETA = 10000.0;

    private Mmproj() {
    }

    /**
     * The vision hyperparameters of an mmproj file, after checking that it is one (architecture {@code clip}, a
     * vision encoder, projector type {@code llama4}). Keys clip.cpp requires are required here too.
     */
    static VisionHyperparameters hyperparameters(GgufFile f) {
        String arch = f.getStringOr(ARCHITECTURE, "");
        if (!CLIP.equals(arch)) {
            throw new ModelFormatException(f.path() + ": not an mmproj file: " + ARCHITECTURE + " is '" + arch
                    + "', expected '" + CLIP + "'" + (arch.equals("llama4")
                    ? " (this is a text model; its vision tower comes in a separate mmproj GGUF)" : ""));
        }
        if (!f.getBooleanOr(HAS_VISION_ENCODER, false)) {
            throw new ModelFormatException(f.path() + ": mmproj file without a vision encoder (" + HAS_VISION_ENCODER
                    + " is missing or false)");
        }
        String projector = f.getStringOr(PROJECTOR_TYPE, "");
        if (!LLAMA4.equals(projector)) {
            throw new ModelFormatException(f.path() + ": " + PROJECTOR_TYPE + " is '" + projector + "', expected '"
                    + LLAMA4 + "' (only Llama 4's vision tower is supported)");
        }
        Integer shuffle = f.has(SCALE_FACTOR) ? f.getInt(SCALE_FACTOR) : null;
        return new VisionHyperparameters(f.path() + ": clip.vision metadata", f.getInt(HEAD_COUNT),
                f.getFloat(LAYER_NORM_EPSILON), ROPE_THETA, f.getInt(IMAGE_SIZE), f.getInt(PATCH_SIZE),
                f.getInt(EMBEDDING_LENGTH), f.getInt(FEED_FORWARD_LENGTH), f.getInt(BLOCK_COUNT), shuffle,
                f.getInt(PROJECTION_DIM));
    }

    /**
     * Preprocessing settings from an mmproj file: tile size {@code clip.vision.image_size}, the file's mean/std
     * (0.5 when absent, Llama 4's values) and {@code maxPatches} local tiles.
     */
    public static PreprocessorConfig preprocessorConfig(GgufFile f, int maxPatches) {
        float[] half = {0.5f, 0.5f, 0.5f};
        float[] mean = f.has(IMAGE_MEAN) ? f.getFloatArray(IMAGE_MEAN) : half;
        float[] std = f.has(IMAGE_STD) ? f.getFloatArray(IMAGE_STD) : half;
        try {
            return new PreprocessorConfig(f.getInt(IMAGE_SIZE), maxPatches, mean, std);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(f.path() + ": " + e.getMessage(), e);
        }
    }
}
