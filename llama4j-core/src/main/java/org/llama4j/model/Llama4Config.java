package org.llama4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.llama4j.format.ModelFormatException;
import org.llama4j.kernel.RopeScaling;

/**
 * Everything the forward pass needs to know about a model's shape and semantics, independent of the file format
 * it came from. {@link #fromHf} reads an HF {@code config.json}; {@code Llama4GgufConfig} reads GGUF metadata;
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
        JsonNode c = config.has("text_config") ? config.get("text_config") : config;
        String type = c.path("model_type").asText("");
        return switch (type) {
            case "llama" -> llama3FromHf(c);
            case "", "llama4", "llama4_text" -> llama4FromHf(config, c);
            default -> throw new ModelFormatException("config.json: model_type '" + type
                    + "' is not supported (supported: llama4, llama4_text, llama)");
        };
    }

    /** transformers' {@code LlamaConfig}: {@code intermediate_size} is the (only, dense) FFN width. */
    private static Llama4Config llama3FromHf(JsonNode c) {
        int hidden = hfInt(c, "hidden_size");
        int heads = hfInt(c, "num_attention_heads");
        return llama3(
                hfInt(c, "vocab_size"), hidden, hfInt(c, "num_hidden_layers"), heads,
                c.has("num_key_value_heads") ? hfInt(c, "num_key_value_heads") : heads,
                c.hasNonNull("head_dim") ? hfInt(c, "head_dim") : hidden / heads,
                hfInt(c, "intermediate_size"),
                (float) c.path("rope_theta").asDouble(10000),
                ropeScalingFromHf(c),
                (float) c.path("rms_norm_eps").asDouble(1e-6),
                hfInt(c, "max_position_embeddings"),
                c.path("bos_token_id").asInt(-1),
                eosFromHf(c.get("eos_token_id")),
                c.hasNonNull("pad_token_id") ? c.get("pad_token_id").asInt() : -1);
    }

    private static Llama4Config llama4FromHf(JsonNode config, JsonNode c) {
        int hidden = hfInt(c, "hidden_size");
        int layers = hfInt(c, "num_hidden_layers");
        int heads = hfInt(c, "num_attention_heads");
        int kvHeads = c.has("num_key_value_heads") ? hfInt(c, "num_key_value_heads") : heads;
        int headDim = c.hasNonNull("head_dim") ? hfInt(c, "head_dim") : hidden / heads;

        List<Integer> moe;
        if (c.hasNonNull("moe_layers")) {
            moe = intList(c.get("moe_layers"));
        } else {
            moe = interleavedMoeLayers(layers, c.path("interleave_moe_layer_step").asInt(1));
        }
        List<Integer> nope = new ArrayList<>();
        if (c.hasNonNull("no_rope_layers") && c.get("no_rope_layers").size() > 0) {
            // Despite the name, no_rope_layers[i] == 1 means layer i USES RoPE.
            List<Integer> flags = intList(c.get("no_rope_layers"));
            if (flags.size() != layers) {
                throw new ModelFormatException("config.json: no_rope_layers has " + flags.size()
                        + " entries, expected one per layer (" + layers + ")");
            }
            for (int l = 0; l < layers; l++) {
                if (flags.get(l) == 0) {
                    nope.add(l);
                }
            }
        } else {
            nope = periodicNoRopeLayers(layers, c.path("no_rope_layer_interval").asInt(4));
        }

        JsonNode eosNode = c.has("eos_token_id") ? c.get("eos_token_id") : config.get("eos_token_id");
        return new Llama4Config(
                Architecture.LLAMA4,
                hfInt(c, "vocab_size"), hidden, layers, heads, kvHeads, headDim,
                c.path("num_local_experts").asInt(0), c.path("num_experts_per_tok").asInt(0),
                c.path("intermediate_size").asInt(0), c.path("intermediate_size_mlp").asInt(0),
                moe, nope,
                c.path("attention_chunk_size").asInt(8192),
                c.path("use_qk_norm").asBoolean(false),
                c.path("attn_temperature_tuning").asBoolean(true),
                (float) c.path("floor_scale").asDouble(8192),
                (float) c.path("attn_scale").asDouble(0.1),
                (float) c.path("rope_theta").asDouble(500000),
                ropeScalingFromHf(c),
                (float) c.path("rms_norm_eps").asDouble(1e-5),
                hfInt(c, "max_position_embeddings"),
                c.path("bos_token_id").asInt(-1),
                eosFromHf(eosNode),
                c.hasNonNull("pad_token_id") ? c.get("pad_token_id").asInt() : -1);
    }

    /** {@code rope_scaling} of type llama3 (both Llama 3.1+ and Llama 4 use it), or {@code null} when absent. */
    private static RopeScaling ropeScalingFromHf(JsonNode c) {
        JsonNode rs = c.get("rope_scaling");
        if (rs == null || rs.isNull()) {
            return null;
        }
        String ropeType = rs.path("rope_type").asText(rs.path("type").asText(""));
        if (!ropeType.equals("llama3")) {
            throw new ModelFormatException("config.json: rope_scaling type '" + ropeType
                    + "' is not supported (only 'llama3')");
        }
        if (!rs.path("factor").isNumber()) {
            throw new ModelFormatException("config.json: rope_scaling has no numeric 'factor'");
        }
        // Read every parameter: Llama 3.1 uses factor 8, Llama 3.2 factor 32 (Meta's own code hard-codes 8).
        return new RopeScaling((float) rs.path("factor").asDouble(), (float) rs.path("low_freq_factor").asDouble(1),
                (float) rs.path("high_freq_factor").asDouble(4), rs.path("original_max_position_embeddings").asInt(8192));
    }

    private static List<Integer> eosFromHf(JsonNode eosNode) {
        List<Integer> eos = new ArrayList<>();
        if (eosNode == null) {
            return eos;
        }
        if (eosNode.isArray()) {
            eos.addAll(intList(eosNode));
        } else if (eosNode.isNumber()) {
            eos.add(eosNode.asInt());
        }
        return eos;
    }

    private static int hfInt(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.canConvertToInt()) {
            throw new ModelFormatException("config.json: missing or non-integer '" + key + "'");
        }
        return n.asInt();
    }

    private static List<Integer> intList(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ModelFormatException("model config: " + message);
        }
    }
}
