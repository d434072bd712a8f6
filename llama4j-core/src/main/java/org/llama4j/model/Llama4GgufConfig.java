package org.llama4j.model;

import java.util.List;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.kernel.RopeScaling;
import org.llama4j.kernel.RotaryEmbedding;
import org.llama4j.tensor.Tensor;

/**
 * Reads a {@link Llama4Config} from the metadata of a llama.cpp GGUF of architecture {@code llama4} or
 * {@code llama} (dense Llama 3.x). The rule: honour what the file says, and fall back to llama.cpp's conventions
 * only where it says nothing:
 * <ul>
 *   <li>chunk size = {@code llama4.attention.sliding_window} (default 8192);</li>
 *   <li>temperature tuning always on, floor_scale = {@code attention.temperature_length} (default 8192),
 *       attn_scale = {@code attention.temperature_scale} (default 0.1);</li>
 *   <li>QK-norm has no key: on iff {@code expert_count != 128} (llama.cpp's rule, true for every released
 *       model);</li>
 *   <li>NoPE every {@code attention.sliding_window_pattern}-th layer (default 4);</li>
 *   <li>the converter swaps the FFN widths: {@code expert_feed_forward_length} is the expert width,
 *       {@code feed_forward_length} the dense one;</li>
 *   <li>llama3 RoPE scaling is stored only as the {@code rope_freqs} tensor (one divisor per frequency), for
 *       both architectures; the parameters are recovered from it (Meta's fixed low_freq_factor 1 and original
 *       context 8192 unless keys say otherwise) and checked to reproduce every divisor.</li>
 * </ul>
 */
public final class Llama4GgufConfig {
    private Llama4GgufConfig() {
    }

    public static Llama4Config read(GgufFile gguf) {
        String name = gguf.getStringOr("general.architecture", "");
        Architecture arch = Architecture.fromGgufName(name).orElseThrow(() -> new ModelFormatException(gguf.path()
                + ": general.architecture '" + name + "' is not supported (supported: "
                + Architecture.supportedGgufNames() + ")"));
        return switch (arch) {
            case LLAMA4 -> llama4(gguf);
            case LLAMA3 -> llama3(gguf);
        };
    }

    private static Llama4Config llama3(GgufFile gguf) {
        String a = "llama.";
        int hidden = required(gguf, a + "embedding_length");
        int heads = required(gguf, a + "attention.head_count");
        int headDim = gguf.getIntOr(a + "attention.key_length", hidden / heads);
        float theta = gguf.getFloatOr(a + "rope.freq_base", 10000f);
        return Llama4Config.llama3(
                vocabSize(gguf, a), hidden, required(gguf, a + "block_count"), heads,
                gguf.getIntOr(a + "attention.head_count_kv", heads), headDim,
                required(gguf, a + "feed_forward_length"),
                theta,
                ropeScaling(gguf, a, theta, headDim),
                gguf.getFloatOr(a + "attention.layer_norm_rms_epsilon", 1e-5f),
                required(gguf, a + "context_length"),
                gguf.getIntOr("tokenizer.ggml.bos_token_id", -1),
                eosTokenIds(gguf),
                gguf.getIntOr("tokenizer.ggml.padding_token_id", -1));
    }

    private static Llama4Config llama4(GgufFile gguf) {
        String a = "llama4.";
        int hidden = required(gguf, a + "embedding_length");
        int layers = required(gguf, a + "block_count");
        int heads = required(gguf, a + "attention.head_count");
        int kvHeads = gguf.getIntOr(a + "attention.head_count_kv", heads);
        int headDim = gguf.getIntOr(a + "attention.key_length", hidden / heads);
        int experts = gguf.getIntOr(a + "expert_count", 0);
        List<Integer> moeLayers = experts == 0 ? List.of()
                : Llama4Config.interleavedMoeLayers(layers, gguf.getIntOr(a + "interleave_moe_layer_step", 1));
        float theta = gguf.getFloatOr(a + "rope.freq_base", 500000f);
        return new Llama4Config(
                Architecture.LLAMA4,
                vocabSize(gguf, a), hidden, layers, heads, kvHeads, headDim,
                experts, gguf.getIntOr(a + "expert_used_count", 0),
                gguf.getIntOr(a + "expert_feed_forward_length", 0),
                gguf.getIntOr(a + "feed_forward_length", 0),
                moeLayers,
                Llama4Config.periodicNoRopeLayers(layers, gguf.getIntOr(a + "attention.sliding_window_pattern", 4)),
                gguf.getIntOr(a + "attention.sliding_window", 8192),
                experts != 128,
                true,
                (float) gguf.getIntOr(a + "attention.temperature_length", 8192),
                gguf.getFloatOr(a + "attention.temperature_scale", 0.1f),
                theta,
                ropeScaling(gguf, a, theta, headDim),
                gguf.getFloatOr(a + "attention.layer_norm_rms_epsilon", 1e-5f),
                required(gguf, a + "context_length"),
                gguf.getIntOr("tokenizer.ggml.bos_token_id", -1),
                eosTokenIds(gguf),
                gguf.getIntOr("tokenizer.ggml.padding_token_id", -1));
    }

    private static int vocabSize(GgufFile gguf, String prefix) {
        return gguf.has(prefix + "vocab_size") ? gguf.getInt(prefix + "vocab_size")
                : gguf.getArray("tokenizer.ggml.tokens").length();
    }

    private static List<Integer> eosTokenIds(GgufFile gguf) {
        return gguf.has("tokenizer.ggml.eos_token_id") ? List.of(gguf.getInt("tokenizer.ggml.eos_token_id")) : List.of();
    }

    /** Recovers llama3 scaling parameters from the {@code rope_freqs} divisors; {@code null} when unscaled. */
    static RopeScaling ropeScaling(GgufFile gguf, String keyPrefix, float theta, int headDim) {
        String type = gguf.getStringOr(keyPrefix + "rope.scaling.type", "none");
        if (!type.equals("none") && !type.equals("llama3")) {
            // Linear or YaRN scaling would change every frequency; running without it would be silently wrong.
            throw new ModelFormatException(gguf.path() + ": rope scaling type '" + type + "' is not supported");
        }
        Tensor t = gguf.findTensor("rope_freqs.weight").orElse(null);
        if (t == null) {
            return null;
        }
        String name = gguf.path() + ": tensor 'rope_freqs.weight'";
        if (t.elementCount() != headDim / 2) {
            throw new ModelFormatException(name + " has " + t.elementCount() + " values, expected headDim/2 = "
                    + headDim / 2);
        }
        float[] divisors = t.toFloatArray();
        float[] freqs = RotaryEmbedding.frequencies(theta, headDim, null);
        float factor = gguf.getFloatOr(keyPrefix + "rope.scaling.factor", 1f);
        for (float v : divisors) {
            factor = Math.max(factor, v);
        }
        if (factor == 1f) {
            return null;
        }
        int original = gguf.getIntOr(keyPrefix + "rope.scaling.original_context_length", 8192);
        float low = 1f;
        float high = low;
        for (int i = 0; i < divisors.length; i++) {
            float r = divisors[i];
            if (r > 1f + 1e-6f && r < factor * (1 - 1e-6f)) {
                // In the blended band 1/r = (1-smooth)/factor + smooth, smooth = (original/wavelength - low)/(high - low).
                double smooth = (1.0 / r - 1.0 / factor) / (1.0 - 1.0 / factor);
                double wavelength = 2 * Math.PI / freqs[i];
                high = (float) (Math.round((low + (original / wavelength - low) / smooth) * 1e4) / 1e4);
                break;
            }
        }
        RopeScaling scaling = new RopeScaling(factor, low, high, original);
        for (int i = 0; i < divisors.length; i++) {
            float expected = freqs[i] / scaling.scale(freqs[i]);
            if (Math.abs(expected - divisors[i]) > 1e-3f * divisors[i]) {
                throw new ModelFormatException(name + ": divisor " + divisors[i] + " of frequency " + i
                        + " does not follow llama3 scaling (best fit " + scaling + " gives " + expected + ")");
            }
        }
        return scaling;
    }

    private static int required(GgufFile gguf, String key) {
        if (!gguf.has(key)) {
            throw new ModelFormatException(gguf.path() + ": metadata key '" + key + "' is missing");
        }
        return gguf.getInt(key);
    }
}
