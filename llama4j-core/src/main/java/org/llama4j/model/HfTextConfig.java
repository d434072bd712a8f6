package org.llama4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.llama4j.format.ModelFormatException;
import org.llama4j.kernel.RopeScaling;

/**
 * The one reader of a Llama text model's HF {@code config.json} fields (transformers' key names): the text part of
 * the config ({@code text_config} of a multimodal Llama 4, else the top level), read with one set of rules for
 * integers, numbers, {@code rope_scaling}, the MoE and NoPE layer lists and the end-of-sequence ids.
 * {@link Llama4Config#fromHf} builds the model description from it; the synthetic generator ({@code create-model})
 * reads the same fields through it before its GGUF-expressibility checks.
 *
 * <p>Errors are {@link ModelFormatException}s naming the key, prefixed with {@code where} when one is given.
 */
public final class HfTextConfig {
    private final JsonNode root;
    private final JsonNode text;
    private final String where;

    private HfTextConfig(JsonNode root, String where) {
        this.root = root;
        this.text = root.has("text_config") ? root.get("text_config") : root;
        this.where = where;
    }

    /** The text part of {@code config}; {@code where} (e.g. {@code "config.json"}, or null) prefixes error messages. */
    public static HfTextConfig of(JsonNode config, String where) {
        return new HfTextConfig(config, where);
    }

    /** {@code model_type} of the text part, {@code ""} when absent. */
    public String modelType() {
        return text.path("model_type").asText("");
    }

    /** Whether the text part has {@code key} with a non-null value. */
    public boolean has(String key) {
        return text.hasNonNull(key);
    }

    /** An integer that must be present (integral JSON numbers, also written as {@code 8192.0}). */
    public int requiredInt(String key) {
        return intOf(text, key, null);
    }

    public int intOr(String key, int defaultValue) {
        return intOf(text, key, defaultValue);
    }

    public float floatOr(String key, float defaultValue) {
        JsonNode n = text.get(key);
        if (n == null || n.isNull()) {
            return defaultValue;
        }
        if (!n.isNumber()) {
            throw error("'" + key + "' is " + n + ", expected a number");
        }
        return (float) n.asDouble();
    }

    public boolean boolOr(String key, boolean defaultValue) {
        return text.path(key).asBoolean(defaultValue);
    }

    /** {@code rope_scaling} of type llama3 (Llama 3.1+ and Llama 4), or {@code null} when absent. */
    public RopeScaling ropeScaling() {
        JsonNode rs = text.get("rope_scaling");
        if (rs == null || rs.isNull()) {
            return null;
        }
        String ropeType = rs.path("rope_type").asText(rs.path("type").asText(""));
        if (!ropeType.equals("llama3")) {
            throw error("rope_scaling type '" + ropeType + "' is not supported (only 'llama3')");
        }
        if (!rs.path("factor").isNumber()) {
            throw error("rope_scaling has no numeric 'factor'");
        }
        // Read every parameter: Llama 3.1 uses factor 8, Llama 3.2 factor 32 (Meta's own code hard-codes 8).
        return new RopeScaling((float) rs.path("factor").asDouble(), (float) rs.path("low_freq_factor").asDouble(1),
                (float) rs.path("high_freq_factor").asDouble(4), intOf(rs, "original_max_position_embeddings", 8192));
    }

    /** {@code interleave_moe_layer_step}, 1 (every layer) when absent. */
    public int interleaveMoeLayerStep() {
        int step = intOr("interleave_moe_layer_step", 1);
        if (step < 1) {
            throw error("interleave_moe_layer_step " + step + " must be at least 1");
        }
        return step;
    }

    /** {@code moe_layers}, or every {@link #interleaveMoeLayerStep}-th layer when absent. */
    public List<Integer> moeLayers(int layerCount) {
        if (has("moe_layers")) {
            return intList(text.get("moe_layers"));
        }
        return Llama4Config.interleavedMoeLayers(layerCount, interleaveMoeLayerStep());
    }

    /** Whether NoPE layers are listed per layer ({@code no_rope_layers}) rather than by an interval. */
    public boolean listsNoRopeLayers() {
        return has("no_rope_layers") && !text.get("no_rope_layers").isEmpty();
    }

    /**
     * The NoPE layers: from {@code no_rope_layers} (despite the name, entry {@code i} is 1 when layer {@code i}
     * USES RoPE), else every {@code no_rope_layer_interval}-th layer ({@code defaultInterval} when absent).
     */
    public List<Integer> noRopeLayers(int layerCount, int defaultInterval) {
        if (!listsNoRopeLayers()) {
            return Llama4Config.periodicNoRopeLayers(layerCount, intOr("no_rope_layer_interval", defaultInterval));
        }
        List<Integer> flags = intList(text.get("no_rope_layers"));
        if (flags.size() != layerCount) {
            throw error("no_rope_layers has " + flags.size() + " entries, expected one per layer (" + layerCount + ")");
        }
        List<Integer> nope = new ArrayList<>();
        for (int l = 0; l < layerCount; l++) {
            if (flags.get(l) == 0) {
                nope.add(l);
            }
        }
        return nope;
    }

    /** {@code eos_token_id} (one id or a list) of the text part, else of the top level; empty when absent. */
    public List<Integer> eosTokenIds() {
        JsonNode eosNode = text.has("eos_token_id") ? text.get("eos_token_id") : root.get("eos_token_id");
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

    private int intOf(JsonNode c, String key, Integer defaultValue) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            if (defaultValue == null) {
                throw error("missing '" + key + "'");
            }
            return defaultValue;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            if (n.isNumber() && n.asDouble() == Math.rint(n.asDouble()) && Math.abs(n.asDouble()) < Integer.MAX_VALUE) {
                return (int) n.asDouble();
            }
            throw error("'" + key + "' is " + n + ", expected an integer");
        }
        return n.asInt();
    }

    private static List<Integer> intList(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }

    private ModelFormatException error(String message) {
        return new ModelFormatException(where == null ? message : where + ": " + message);
    }
}
