package org.llama4j.model.synthetic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llama4j.format.ModelFormatException;
import org.llama4j.kernel.RopeScaling;
import org.llama4j.model.HfTextConfig;
import org.llama4j.model.Llama4Config;

/**
 * The shape and hyper-parameters of a synthetic Llama 4 text model: what {@code create-model} needs to lay out a
 * GGUF that llama.cpp and llama4j load. Built from a preset ({@link #preset}) or an HF {@code config.json}
 * ({@link #fromHfConfig}, read by the same {@link HfTextConfig} as {@link Llama4Config#fromHf}): the generator adds
 * the file name, presets and the checks that the model is expressible as a Llama 4 GGUF.
 *
 * <p>The GGUF format (and llama.cpp) can only express Llama 4's regular layer patterns: MoE on every
 * {@code interleaveMoeLayerStep}-th layer (layer {@code l} is MoE iff {@code (l+1) % step == 0}) and NoPE on every
 * 4th layer ({@code (l+1) % 4 == 0}). A config with any other pattern is rejected instead of silently changed.
 *
 * @param name                   {@code general.name} of the file
 * @param vocabSize              tokens (embedding and output rows)
 * @param hiddenSize             model width D
 * @param layerCount             transformer blocks (at least 4: llama.cpp needs a NoPE layer)
 * @param headCount              query heads
 * @param kvHeadCount            key/value heads
 * @param headDim                width of one head (= hiddenSize / headCount, as Meta's code computes it)
 * @param expertCount            routed experts per MoE layer (1 to 256)
 * @param expertsPerToken        top-k
 * @param expertFfnWidth         hidden width of each routed expert and of the shared expert (HF {@code intermediate_size})
 * @param denseFfnWidth          hidden width of the dense FFN of non-MoE layers (HF {@code intermediate_size_mlp})
 * @param interleaveMoeLayerStep MoE every this many layers (1: every layer)
 * @param attentionChunkSize     chunked-attention window of the RoPE layers
 * @param attnTemperatureTuning  NoPE query temperature scaling on
 * @param floorScale             temperature tuning floor scale
 * @param attnScale              temperature tuning scale
 * @param ropeTheta              RoPE base
 * @param ropeScaling            llama3 frequency scaling, or {@code null}
 * @param rmsNormEps             RMSNorm epsilon
 * @param contextLength          trained context length
 */
public record SyntheticModelConfig(
        String name,
        int vocabSize,
        int hiddenSize,
        int layerCount,
        int headCount,
        int kvHeadCount,
        int headDim,
        int expertCount,
        int expertsPerToken,
        int expertFfnWidth,
        int denseFfnWidth,
        int interleaveMoeLayerStep,
        int attentionChunkSize,
        boolean attnTemperatureTuning,
        int floorScale,
        float attnScale,
        float ropeTheta,
        RopeScaling ropeScaling,
        float rmsNormEps,
        int contextLength) {

    /** Llama 4's full vocabulary: 200000 BPE tokens and 2048 special tokens. */
    public static final int FULL_VOCAB_SIZE = 202048;

    /** llama.cpp hard-codes the NoPE period of LLAMA4 ({@code n_no_rope_layer_step}). */
    public static final int NOPE_LAYER_INTERVAL = 4;

    public SyntheticModelConfig {
        require(name != null && !name.isBlank(), "the model needs a name");
        require(vocabSize > 0, "vocab_size " + vocabSize + " must be positive");
        require(hiddenSize > 0, "hidden_size " + hiddenSize + " must be positive");
        require(headCount > 0, "num_attention_heads " + headCount + " must be positive");
        require(kvHeadCount > 0, "num_key_value_heads " + kvHeadCount + " must be positive");
        require(hiddenSize % headCount == 0, "hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                + headCount);
        require(headDim == hiddenSize / headCount, "head_dim " + headDim + " differs from hidden_size / num_attention_heads = "
                + hiddenSize / headCount + " (Llama 4 computes the head width as dim / n_heads)");
        require(headCount % kvHeadCount == 0, "num_attention_heads " + headCount
                + " is not a multiple of num_key_value_heads " + kvHeadCount);
        require(headDim % 2 == 0, "head_dim " + headDim + " must be even for RoPE");
        require(layerCount >= NOPE_LAYER_INTERVAL, "num_hidden_layers " + layerCount + " is below "
                + NOPE_LAYER_INTERVAL + ": a Llama 4 GGUF without a NoPE layer crashes llama.cpp at the first decode");
        require(interleaveMoeLayerStep >= 1, "interleave_moe_layer_step " + interleaveMoeLayerStep
                + " must be at least 1");
        // llama.cpp's LLAMA4 graph always routes (an expert count of 0 selects another model); 256 is the oldest
        // LLAMA_MAX_EXPERTS still in use
        require(expertCount >= 1 && expertCount <= 256, "num_local_experts " + expertCount
                + " must be between 1 and 256 (Llama 4 is a mixture-of-experts model)");
        require(expertsPerToken >= 1 && expertsPerToken <= expertCount, "num_experts_per_tok " + expertsPerToken
                + " must be between 1 and num_local_experts " + expertCount);
        require(expertFfnWidth > 0, "intermediate_size (expert FFN width) " + expertFfnWidth + " must be positive");
        require(interleaveMoeLayerStep <= layerCount, "interleave_moe_layer_step " + interleaveMoeLayerStep
                + " exceeds num_hidden_layers " + layerCount + ": no layer would be MoE");
        require(interleaveMoeLayerStep == 1 || denseFfnWidth > 0, "intermediate_size_mlp (dense FFN width) "
                + denseFfnWidth + " must be positive: interleave_moe_layer_step " + interleaveMoeLayerStep
                + " leaves dense layers");
        require(attentionChunkSize > 0, "attention_chunk_size " + attentionChunkSize + " must be positive");
        require(!attnTemperatureTuning || floorScale > 0, "floor_scale " + floorScale + " must be positive");
        require(Float.isFinite(attnScale), "attn_scale must be finite");
        require(ropeTheta > 0 && Float.isFinite(ropeTheta), "rope_theta " + ropeTheta + " must be positive");
        require(rmsNormEps > 0 && Float.isFinite(rmsNormEps), "rms_norm_eps " + rmsNormEps + " must be positive");
        require(contextLength > 0, "max_position_embeddings " + contextLength + " must be positive");
        if (ropeScaling != null) {
            // what the converter's rope_freqs formula needs
            RopeScaling s = ropeScaling;
            require(s.factor() >= 1 && Float.isFinite(s.factor()), "rope_scaling.factor " + s.factor() + " must be >= 1");
            require(s.lowFreqFactor() > 0 && s.highFreqFactor() > 0, "rope_scaling low/high_freq_factor must be positive");
            require(s.highFreqFactor() >= s.lowFreqFactor(), "rope_scaling high_freq_factor " + s.highFreqFactor()
                    + " is below low_freq_factor " + s.lowFreqFactor());
            require(s.originalContextLength() > 0, "rope_scaling.original_max_position_embeddings must be positive");
        }
    }

    /** Whether layer {@code layer} has a routed-expert FFN (llama.cpp's rule: {@code (l+1) % step == 0}). */
    public boolean isMoeLayer(int layer) {
        return (layer + 1) % interleaveMoeLayerStep == 0;
    }

    /** Whether layer {@code layer} uses RoPE; every 4th layer is NoPE. */
    public boolean usesRope(int layer) {
        return (layer + 1) % NOPE_LAYER_INTERVAL != 0;
    }

    /** llama.cpp turns qk-norm on iff the expert count is not 128 (there is no GGUF key for it). */
    public boolean usesQkNorm() {
        return expertCount != 128;
    }

    public SyntheticModelConfig withVocabSize(int vocab) {
        return new SyntheticModelConfig(name, vocab, hiddenSize, layerCount, headCount, kvHeadCount, headDim,
                expertCount, expertsPerToken, expertFfnWidth, denseFfnWidth, interleaveMoeLayerStep, attentionChunkSize,
                attnTemperatureTuning, floorScale, attnScale, ropeTheta, ropeScaling, rmsNormEps, contextLength);
    }

    public SyntheticModelConfig withName(String newName) {
        return new SyntheticModelConfig(newName, vocabSize, hiddenSize, layerCount, headCount, kvHeadCount, headDim,
                expertCount, expertsPerToken, expertFfnWidth, denseFfnWidth, interleaveMoeLayerStep, attentionChunkSize,
                attnTemperatureTuning, floorScale, attnScale, ropeTheta, ropeScaling, rmsNormEps, contextLength);
    }

    /** Number of weights the model has (all tensors, including norms and rope factors). */
    public long parameterCount() {
        long d = hiddenSize;
        long attn = d * headDim * (2L * headCount + 2L * kvHeadCount) + 2 * d;
        long total = 2L * vocabSize * d + d + (ropeScaling != null ? headDim / 2 : 0);
        for (int l = 0; l < layerCount; l++) {
            total += attn;
            total += isMoeLayer(l)
                    ? d * expertCount + 3L * d * expertFfnWidth * (expertCount + 1)
                    : 3L * d * denseFfnWidth;
        }
        return total;
    }

    /**
     * Per-frequency RoPE divisors of llama.cpp's {@code rope_freqs} tensor for llama3 scaling (the converter's
     * formula): 1 for wavelengths below {@code original / high_freq_factor}, {@code factor} above
     * {@code original / low_freq_factor}, a smooth mix between; {@code null} without rope scaling.
     */
    public float[] ropeFrequencyFactors() {
        if (ropeScaling == null) {
            return null;
        }
        RopeScaling s = ropeScaling;
        double lowFreqWavelength = s.originalContextLength() / (double) s.lowFreqFactor();
        double highFreqWavelength = s.originalContextLength() / (double) s.highFreqFactor();
        float[] factors = new float[headDim / 2];
        for (int i = 0; i < factors.length; i++) {
            // the converter computes the frequencies in float32
            float freq = (float) (1.0 / Math.pow(ropeTheta, (float) (2 * i) / headDim));
            double wavelength = 2 * Math.PI / freq;
            if (wavelength < highFreqWavelength) {
                factors[i] = 1f;
            } else if (wavelength > lowFreqWavelength) {
                factors[i] = s.factor();
            } else {
                // only reachable when high_freq_factor > low_freq_factor, so the division is safe
                double smooth = (s.originalContextLength() / wavelength - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                factors[i] = (float) (1 / ((1 - smooth) / s.factor() + smooth));
            }
        }
        return factors;
    }

    // ------------------------------------------------------------------ presets

    /** Preset names accepted by {@link #preset}, in the order {@code --help} lists them. */
    public static List<String> presetNames() {
        return List.copyOf(PRESETS.keySet());
    }

    /** A built-in shape: {@code tiny}, {@code tiny-scout}, {@code tiny-maverick}, {@code scout-bench}, {@code maverick-bench}. */
    public static SyntheticModelConfig preset(String presetName) {
        SyntheticModelConfig c = PRESETS.get(presetName);
        if (c == null) {
            throw new IllegalArgumentException("unknown preset '" + presetName + "'; known presets: "
                    + String.join(", ", PRESETS.keySet()) + " (or give the path of an HF config.json)");
        }
        return c;
    }

    private static final RopeScaling SCOUT_ROPE_SCALING = new RopeScaling(16f, 1f, 1f, 8192);
    private static final Map<String, SyntheticModelConfig> PRESETS = new LinkedHashMap<>();

    static {
        // hidden 256 so that every row is a multiple of 256 and the K-quant / IQ4_XS types really occur;
        // MoE and dense layers both present; llama.cpp's chunk/floor values, so both engines agree on semantics
        PRESETS.put("tiny", new SyntheticModelConfig("tiny", 2048, 256, 4, 4, 2, 64,
                4, 1, 256, 512, 2, 8192, true, 8192, 0.1f, 500000f, SCOUT_ROPE_SCALING, 1e-5f, 4096));
        PRESETS.put("tiny-scout", new SyntheticModelConfig("tiny-scout", 2048, 256, 4, 4, 2, 64,
                16, 1, 256, 0, 1, 8192, true, 8192, 0.1f, 500000f, SCOUT_ROPE_SCALING, 1e-5f, 4096));
        PRESETS.put("tiny-maverick", new SyntheticModelConfig("tiny-maverick", 2048, 256, 4, 4, 2, 64,
                128, 1, 256, 512, 2, 8192, true, 8192, 0.1f, 500000f, null, 1e-5f, 4096));
        // Scout-shaped: MoE every layer, 16 experts + shared, top-1, NoPE every 4th, qk-norm, llama3 rope scaling;
        // about 2.2 billion weights: 1.3 GB at Q4_K_M
        PRESETS.put("scout-bench", new SyntheticModelConfig("scout-bench", 32768, 2048, 12, 16, 4, 128,
                16, 1, 1536, 4096, 1, 8192, true, 8192, 0.1f, 500000f, SCOUT_ROPE_SCALING, 1e-5f, 262144));
        // Maverick-shaped: MoE every other layer with 128 experts + shared, dense FFN between, no qk-norm, no rope
        // scaling; about 2.8 billion weights: 1.7 GB at Q4_K_M
        PRESETS.put("maverick-bench", new SyntheticModelConfig("maverick-bench", 32768, 2048, 12, 16, 4, 128,
                128, 1, 512, 4096, 2, 8192, true, 8192, 0.1f, 500000f, null, 1e-5f, 262144));
    }

    // ------------------------------------------------------------------ HF config.json

    /** Reads an HF {@code config.json} ({@code Llama4ForConditionalGeneration} or {@code Llama4ForCausalLM}). */
    public static SyntheticModelConfig fromHfConfig(Path configJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(configJson + ": cannot read the config as JSON: " + e.getMessage(), e);
        }
        String fileName = configJson.getFileName().toString();
        String parent = configJson.toAbsolutePath().getParent() == null ? null
                : configJson.toAbsolutePath().getParent().getFileName().toString();
        String name = fileName.equals("config.json") && parent != null ? parent : fileName.replaceFirst("\\.json$", "");
        return fromHfJson(root, name, configJson.toString());
    }

    /**
     * Reads the parsed {@code config.json}; {@code where} names the source in error messages.
     *
     * @throws ModelFormatException when the config is not a Llama 4 text config or describes a model a Llama 4
     *                              GGUF cannot express
     */
    public static SyntheticModelConfig fromHfJson(JsonNode root, String name, String where) {
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(where + ": expected a JSON object");
        }
        List<String> architectures = new ArrayList<>();
        root.path("architectures").forEach(a -> architectures.add(a.asText()));
        String modelType = root.path("model_type").asText("");
        boolean known = architectures.stream().anyMatch(a -> a.equals("Llama4ForConditionalGeneration")
                || a.equals("Llama4ForCausalLM"))
                || (architectures.isEmpty() && (modelType.equals("llama4") || modelType.equals("llama4_text")));
        if (!known) {
            throw new ModelFormatException(where + ": architecture " + (architectures.isEmpty() ? "'" + modelType + "'"
                    : architectures) + " is not Llama 4 (expected Llama4ForConditionalGeneration or Llama4ForCausalLM)");
        }
        HfTextConfig c = HfTextConfig.of(root, null);
        try {
            int hidden = c.requiredInt("hidden_size");
            int layers = c.requiredInt("num_hidden_layers");
            int heads = c.requiredInt("num_attention_heads");
            int step = c.interleaveMoeLayerStep();
            checkMoeLayers(c.moeLayers(layers), layers, step);
            checkNoRopeLayers(c, layers);
            return new SyntheticModelConfig(name, c.requiredInt("vocab_size"), hidden, layers, heads,
                    c.intOr("num_key_value_heads", heads), c.intOr("head_dim", heads > 0 ? hidden / heads : 0),
                    c.requiredInt("num_local_experts"), c.intOr("num_experts_per_tok", 1),
                    c.intOr("intermediate_size", 0), c.intOr("intermediate_size_mlp", 0), step,
                    c.intOr("attention_chunk_size", 8192), c.boolOr("attn_temperature_tuning", true),
                    c.intOr("floor_scale", 8192), c.floatOr("attn_scale", 0.1f), c.floatOr("rope_theta", 500000f),
                    c.ropeScaling(), c.floatOr("rms_norm_eps", 1e-5f), c.intOr("max_position_embeddings", 131072));
        } catch (IllegalArgumentException | ModelFormatException e) {
            throw new ModelFormatException(where + ": " + e.getMessage(), e);
        }
    }

    /** The MoE layers must be the interleave pattern llama.cpp derives from the step. */
    private static void checkMoeLayers(List<Integer> given, int layers, int step) {
        List<Integer> expected = Llama4Config.interleavedMoeLayers(layers, step);
        if (!given.equals(expected)) {
            throw new ModelFormatException("moe_layers " + given + " is not the pattern of interleave_moe_layer_step "
                    + step + " (" + expected + "), the only one a Llama 4 GGUF can express");
        }
    }

    /** llama.cpp makes exactly every 4th layer NoPE. */
    private static void checkNoRopeLayers(HfTextConfig c, int layers) {
        if (!c.listsNoRopeLayers()) {
            int interval = c.intOr("no_rope_layer_interval", NOPE_LAYER_INTERVAL);
            if (interval != NOPE_LAYER_INTERVAL) {
                throw new ModelFormatException("no_rope_layer_interval " + interval + " is not "
                        + NOPE_LAYER_INTERVAL + ", the only NoPE period llama.cpp supports");
            }
            return;
        }
        List<Integer> nope = c.noRopeLayers(layers, NOPE_LAYER_INTERVAL);
        for (int l = 0; l < layers; l++) {
            boolean usesRope = !nope.contains(l);
            boolean expected = (l + 1) % NOPE_LAYER_INTERVAL != 0;
            if (usesRope != expected) {
                throw new ModelFormatException("no_rope_layers makes layer " + l + (usesRope ? " use" : " skip")
                        + " RoPE; a Llama 4 GGUF can only express NoPE on every " + NOPE_LAYER_INTERVAL + "th layer");
            }
        }
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
