package org.llama4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.IntStream;
import org.llama4j.format.ModelFormatException;
import org.llama4j.kernel.RopeScaling;

/**
 * Everything the forward pass needs to know about a model's shape and semantics, independent of the file format
 * it came from. {@link #fromHf} reads an HF {@code config.json} (through {@link HfTextConfig}); {@code Llama4GgufConfig}
 * reads GGUF metadata;
 * for the same checkpoint both give an equal record.
 *
 * <p>Llama 4 interleaves two kinds of layers ("iRoPE"): most layers use RoPE and attend only within their
 * {@code attentionChunkSize}-token chunk; every few layers a NoPE layer (no positional encoding) attends
 * causally over the whole context, with its queries scaled up at long range (attention temperature tuning).
 *
 * <p>A dense Llama 3 ({@link Architecture#LLAMA3}, see {@link #llama3}) is the special case with none of that:
 * no MoE layers, no NoPE layers, no chunking ({@code attentionChunkSize} 0), no QK-norm, no temperature tuning.
 * It runs through the same forward pass.
 *
 * @param architecture           the model family, checked against the fields below
 * @param vocabSize              tokens in the embedding and output head
 * @param hiddenSize             model width D
 * @param layerCount             transformer blocks
 * @param headCount              query heads
 * @param kvHeadCount            key/value heads (grouped-query attention)
 * @param headDim                width of one head
 * @param expertCount            routed experts per MoE layer
 * @param expertsPerToken        experts chosen per token (top-k)
 * @param expertFfnWidth         hidden width of each routed expert and of the shared expert
 * @param denseFfnWidth          hidden width of the SwiGLU FFN of non-MoE layers
 * @param moeLayers              indices of the MoE layers (the others have a dense FFN)
 * @param noRopeLayers           indices of the NoPE (global attention) layers
 * @param attentionChunkSize     chunk length of the RoPE layers' local attention; 0 when they attend globally
 * @param useQkNorm              weightless RMSNorm of q and k heads on RoPE layers
 * @param attnTemperatureTuning  scale NoPE queries by {@code 1 + attnScale·ln(floor((pos+1)/floorScale)+1)}
 * @param ropeScaling            llama3 frequency scaling, or {@code null}
 * @param contextLength          maximum number of positions
 * @param eosTokenIds            end-of-sequence ids
 * @param padTokenId             padding id, -1 if none
 */
public record Llama4Config(
        Architecture architecture,
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
        List<Integer> moeLayers,
        List<Integer> noRopeLayers,
        int attentionChunkSize,
        boolean useQkNorm,
        boolean attnTemperatureTuning,
        float floorScale,
        float attnScale,
        float ropeTheta,
        RopeScaling ropeScaling,
        float rmsNormEps,
        int contextLength,
        int bosTokenId,
        List<Integer> eosTokenIds,
        int padTokenId) {

    public Llama4Config {
        java.util.Objects.requireNonNull(architecture, "architecture");
        moeLayers = List.copyOf(moeLayers);
        noRopeLayers = List.copyOf(noRopeLayers);
        eosTokenIds = List.copyOf(eosTokenIds);
        require(vocabSize > 0 && hiddenSize > 0 && layerCount > 0 && headCount > 0 && kvHeadCount > 0 && headDim > 0,
                "dimensions must be positive");
        require(headCount % kvHeadCount == 0, "head count " + headCount + " is not a multiple of the kv head count "
                + kvHeadCount);
        require(headDim % 2 == 0, "head dimension " + headDim + " must be even for RoPE");
        require(moeLayers.isEmpty() || (expertCount > 0 && expertsPerToken > 0 && expertsPerToken <= expertCount
                && expertFfnWidth > 0), "MoE layers need experts (count " + expertCount + ", per token "
                + expertsPerToken + ", width " + expertFfnWidth + ")");
        require(moeLayers.size() == layerCount || denseFfnWidth > 0, "dense layers need a dense FFN width");
        for (int l : moeLayers) {
            require(l >= 0 && l < layerCount, "MoE layer " + l + " out of range");
        }
        for (int l : noRopeLayers) {
            require(l >= 0 && l < layerCount, "NoPE layer " + l + " out of range");
        }
        require(attentionChunkSize >= 0, "attention chunk size must not be negative");
        switch (architecture) {
            case LLAMA4 -> require(attentionChunkSize > 0, "Llama 4 needs a positive attention chunk size");
            case LLAMA3 -> require(moeLayers.isEmpty() && noRopeLayers.isEmpty() && attentionChunkSize == 0
                    && !useQkNorm && !attnTemperatureTuning, "Llama 3 is dense with RoPE and global attention in "
                    + "every layer (no MoE or NoPE layers, chunking, QK-norm or temperature tuning)");
        }
        require(!attnTemperatureTuning || floorScale > 0, "floor_scale must be positive");
        require(contextLength > 0, "context length must be positive");
    }

    public boolean isMoeLayer(int layer) {
        return moeLayers.contains(layer);
    }

    /** Whether layer {@code layer} uses RoPE (and chunked attention); the others are NoPE with global attention. */
    public boolean usesRope(int layer) {
        return !noRopeLayers.contains(layer);
    }

    /** Whether layer {@code layer} attends only within its chunk (Llama 4's RoPE layers) rather than globally. */
    public boolean chunksAttention(int layer) {
        return attentionChunkSize > 0 && usesRope(layer);
    }

    /** Query heads that share one key/value head. */
    public int queriesPerKvHead() {
        return headCount / kvHeadCount;
    }

    /** MoE layers as transformers and Meta place them: every {@code step}-th layer, the last of each group. */
    public static List<Integer> interleavedMoeLayers(int layerCount, int step) {
        return IntStream.range(0, layerCount).filter(l -> (l + 1) % step == 0).boxed().toList();
    }

    /** NoPE layers every {@code interval}-th layer (3, 7, 11, ... for Llama 4's interval 4). */
    public static List<Integer> periodicNoRopeLayers(int layerCount, int interval) {
        return IntStream.range(0, layerCount).filter(l -> (l + 1) % interval == 0).boxed().toList();
    }

    /**
     * A dense Llama 3.x: every layer a SwiGLU FFN of {@code ffnWidth}, RoPE and global causal attention.
     */
    public static Llama4Config llama3(int vocabSize, int hiddenSize, int layerCount, int headCount, int kvHeadCount,
                                      int headDim, int ffnWidth, float ropeTheta, RopeScaling ropeScaling,
                                      float rmsNormEps, int contextLength, int bosTokenId, List<Integer> eosTokenIds,
                                      int padTokenId) {
        return new Llama4Config(Architecture.LLAMA3, vocabSize, hiddenSize, layerCount, headCount, kvHeadCount,
                headDim, 0, 0, 0, ffnWidth, List.of(), List.of(), 0, false, false, 0f, 0f, ropeTheta, ropeScaling,
                rmsNormEps, contextLength, bosTokenId, eosTokenIds, padTokenId);
    }

    /**
     * Reads an HF {@code config.json}: {@code model_type} {@code llama} ({@code LlamaForCausalLM}, Llama 3.x), or
     * Llama 4: the top level of a {@code Llama4ForCausalLM} / {@code llama4_text} config, or its
     * {@code text_config} for {@code Llama4ForConditionalGeneration}.
     */
    public static Llama4Config fromHf(JsonNode config) {
        HfTextConfig c = HfTextConfig.of(config, "config.json");
        String type = c.modelType();
        return switch (type) {
            case "llama" -> llama3FromHf(c);
            case "", "llama4", "llama4_text" -> llama4FromHf(c);
            default -> throw new ModelFormatException("config.json: model_type '" + type
                    + "' is not supported (supported: llama4, llama4_text, llama)");
        };
    }

    /** transformers' {@code LlamaConfig}: {@code intermediate_size} is the (only, dense) FFN width. */
    private static Llama4Config llama3FromHf(HfTextConfig c) {
        int hidden = c.requiredInt("hidden_size");
        int heads = c.requiredInt("num_attention_heads");
        return llama3(
                c.requiredInt("vocab_size"), hidden, c.requiredInt("num_hidden_layers"), heads,
                c.intOr("num_key_value_heads", heads),
                c.intOr("head_dim", hidden / heads),
                c.requiredInt("intermediate_size"),
                c.floatOr("rope_theta", 10000),
                c.ropeScaling(),
                c.floatOr("rms_norm_eps", 1e-6f),
                c.requiredInt("max_position_embeddings"),
                c.intOr("bos_token_id", -1),
                c.eosTokenIds(),
                c.intOr("pad_token_id", -1));
    }

    private static Llama4Config llama4FromHf(HfTextConfig c) {
        int hidden = c.requiredInt("hidden_size");
        int layers = c.requiredInt("num_hidden_layers");
        int heads = c.requiredInt("num_attention_heads");
        return new Llama4Config(
                Architecture.LLAMA4,
                c.requiredInt("vocab_size"), hidden, layers, heads,
                c.intOr("num_key_value_heads", heads), c.intOr("head_dim", hidden / heads),
                c.intOr("num_local_experts", 0), c.intOr("num_experts_per_tok", 0),
                c.intOr("intermediate_size", 0), c.intOr("intermediate_size_mlp", 0),
                c.moeLayers(layers), c.noRopeLayers(layers, 4),
                c.intOr("attention_chunk_size", 8192),
                c.boolOr("use_qk_norm", false),
                c.boolOr("attn_temperature_tuning", true),
                c.floatOr("floor_scale", 8192),
                c.floatOr("attn_scale", 0.1f),
                c.floatOr("rope_theta", 500000),
                c.ropeScaling(),
                c.floatOr("rms_norm_eps", 1e-5f),
                c.requiredInt("max_position_embeddings"),
                c.intOr("bos_token_id", -1),
                c.eosTokenIds(),
                c.intOr("pad_token_id", -1));
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ModelFormatException("model config: " + message);
        }
    }
}
