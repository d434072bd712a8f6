package org.llama4j.model;

import java.util.List;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.kernel.RopeScaling;
import org.llama4j.kernel.RotaryEmbedding;
import org.llama4j.tensor.Tensor;

/**
 * Reads a {@link Llama4Config} from the metadata of a llama.cpp {@code llama4} GGUF. The rule: honour what the
 * file says, and fall back to llama.cpp's conventions only where it says nothing:
 * <ul>
 *   <li>chunk size = {@code llama4.attention.sliding_window} (default 8192);</li>
 *   <li>temperature tuning always on, floor_scale = {@code attention.temperature_length} (default 8192),
 *       attn_scale = {@code attention.temperature_scale} (default 0.1);</li>
 *   <li>QK-norm has no key: on iff {@code expert_count != 128} (llama.cpp's rule, true for every released
 *       model);</li>
 *   <li>NoPE every {@code attention.sliding_window_pattern}-th layer (default 4);</li>
 *   <li>the converter swaps the FFN widths: {@code expert_feed_forward_length} is the expert width,
 *       {@code feed_forward_length} the dense one;</li>
 *   <li>llama3 RoPE scaling is stored only as the {@code rope_freqs} tensor (one divisor per frequency); the
 *       parameters are recovered from it (Meta's fixed low_freq_factor 1 and original context 8192 unless keys
 *       say otherwise) and checked to reproduce every divisor.</li>
 * </ul>
 */
public final class Llama4GgufConfig {
    private static final String A = "llama4.";

    private Llama4GgufConfig() {
    }

    public static Llama4Config read(GgufFile gguf) {
        String arch = gguf.getStringOr("general.architecture", "");
        if (!arch.equals("llama4")) {
            throw new ModelFormatException(gguf.path() + ": general.architecture is '" + arch + "', expected 'llama4'");
        }
        int hidden = required(gguf, A + "embedding_length");
        int layers = required(gguf, A + "block_count");
        int heads = required(gguf, A + "attention.head_count");
        int kvHeads = gguf.getIntOr(A + "attention.head_count_kv", heads);
        int headDim = gguf.getIntOr(A + "attention.key_length", hidden / heads);
        int vocab = gguf.has(A + "vocab_size") ? gguf.getInt(A + "vocab_size")
                : gguf.getArray("tokenizer.ggml.tokens").length();
        int experts = gguf.getIntOr(A + "expert_count", 0);
        List<Integer> moeLayers = experts == 0 ? List.of()
                : Llama4Config.interleavedMoeLayers(layers, gguf.getIntOr(A + "interleave_moe_layer_step", 1));
        float theta = gguf.getFloatOr(A + "rope.freq_base", 500000f);
        return new Llama4Config(
                vocab, hidden, layers, heads, kvHeads, headDim,
                experts, gguf.getIntOr(A + "expert_used_count", 0),
                gguf.getIntOr(A + "expert_feed_forward_length", 0),
                gguf.getIntOr(A + "feed_forward_length", 0),
                moeLayers,
                Llama4Config.periodicNoRopeLayers(layers, gguf.getIntOr(A + "attention.sliding_window_pattern", 4)),
                gguf.getIntOr(A + "attention.sliding_window", 8192),
                experts != 128,
                true,
                (float) gguf.getIntOr(A + "attention.temperature_length", 8192),
                gguf.getFloatOr(A + "attention.temperature_scale", 0.1f),
                theta,
                ropeScaling(gguf, theta, headDim),
                gguf.getFloatOr(A + "attention.layer_norm_rms_epsilon", 1e-5f),
                required(gguf, A + "context_length"),
                gguf.getIntOr("tokenizer.ggml.bos_token_id", -1),
                gguf.has("tokenizer.ggml.eos_token_id") ? List.of(gguf.getInt("tokenizer.ggml.eos_token_id")) : List.of(),
                gguf.getIntOr("tokenizer.ggml.padding_token_id", -1));
    }

    /** Recovers llama3 scaling parameters from the {@code rope_freqs} divisors; {@code null} when unscaled. */
    static RopeScaling ropeScaling(GgufFile gguf, float theta, int headDim) {
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
        float factor = gguf.getFloatOr(A + "rope.scaling.factor", 1f);
        for (float v : divisors) {
            factor = Math.max(factor, v);
        }
        if (factor == 1f) {
            return null;
        }
        int original = gguf.getIntOr(A + "rope.scaling.original_context_length", 8192);
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
