package org.llama4j.safety.promptguard;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.llama4j.format.ModelFormatException;

/**
 * The settings of a {@code DebertaV2ForSequenceClassification} checkpoint, read from {@code config.json} with
 * transformers' defaults for absent fields and a specific error for every unusable value.
 *
 * @param maxRelativePositions the effective value: {@code max_position_embeddings} when the config says {@code < 1}
 * @param positionBuckets {@code <= 0} for unbucketed relative positions
 * @param c2p whether {@code pos_att_type} has content-to-position attention
 * @param p2c whether {@code pos_att_type} has position-to-content attention
 * @param labels label names by class index ({@code id2label})
 */
public record DebertaV2Config(
        int vocabSize,
        int hiddenSize,
        int embeddingSize,
        int numLayers,
        int numHeads,
        int intermediateSize,
        Activation hiddenAct,
        double layerNormEps,
        int maxPositionEmbeddings,
        boolean positionBiasedInput,
        int typeVocabSize,
        boolean relativeAttention,
        int maxRelativePositions,
        int positionBuckets,
        boolean c2p,
        boolean p2c,
        boolean shareAttKey,
        boolean normRelEmbeddingsLayerNorm,
        int poolerHiddenSize,
        Activation poolerAct,
        List<String> labels,
        int padTokenId) {

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Rows of relative embeddings each direction spans: {@code position_buckets}, else the max distance. */
    public int attentionSpan() {
        return positionBuckets > 0 ? positionBuckets : maxRelativePositions;
    }

    /** transformers' {@code scale_factor}: 1, plus 1 for each of c2p and p2c. */
    public int scaleFactor() {
        return 1 + (c2p ? 1 : 0) + (p2c ? 1 : 0);
    }

    public static DebertaV2Config parse(JsonNode c, String where) {
        Reader r = new Reader(c, where);
        String modelType = r.string("model_type", "deberta-v2");
        if (!modelType.equals("deberta-v2")) {
            throw r.error("model_type", "\"" + modelType + "\" is not \"deberta-v2\"");
        }
        int hidden = r.positiveInt("hidden_size", null);
        int heads = r.positiveInt("num_attention_heads", null);
        if (hidden % heads != 0) {
            throw r.error("hidden_size", hidden + " is not a multiple of num_attention_heads " + heads);
        }
        if (c.hasNonNull("conv_kernel_size") && c.get("conv_kernel_size").asInt() > 0) {
            throw r.error("conv_kernel_size", "the DeBERTa-v2 ConvLayer is not supported (v3 checkpoints such as"
                    + " Prompt Guard 2 have none)");
        }
        int maxPos = r.positiveInt("max_position_embeddings", 512);
        boolean relative = r.bool("relative_attention", false);
        int maxRel = r.integer("max_relative_positions", -1);
        if (maxRel < 1) {
            maxRel = maxPos;
        }
        int buckets = r.integer("position_buckets", -1);
        if (buckets > 0 && (buckets % 2 != 0 || buckets < 4)) {
            throw r.error("position_buckets", buckets + " must be even and at least 4");
        }
        if (buckets > 0 && maxRel - 1 <= buckets / 2) {
            throw r.error("max_relative_positions", maxRel + " must exceed position_buckets / 2 + 1 = "
                    + (buckets / 2 + 1) + " for log-bucketed positions");
        }
        Set<String> posAtt = new LinkedHashSet<>();
        JsonNode pat = c.get("pos_att_type");
        if (pat != null && !pat.isNull()) {
            List<String> items = new ArrayList<>();
            if (pat.isTextual()) {
                // old configs write "p2c|c2p"
                for (String s : pat.textValue().toLowerCase(java.util.Locale.ROOT).split("\\|")) {
                    items.add(s.strip());
                }
            } else if (pat.isArray()) {
                pat.forEach(n -> items.add(n.asText().toLowerCase(java.util.Locale.ROOT)));
            } else {
                throw r.error("pos_att_type", "expected a list such as [\"p2c\", \"c2p\"], found " + pat);
            }
            for (String s : items) {
                if (!s.equals("c2p") && !s.equals("p2c")) {
                    throw r.error("pos_att_type", "unknown attention type \"" + s + "\" (expected c2p, p2c)");
                }
                posAtt.add(s);
            }
        }
        String normRel = r.string("norm_rel_ebd", "none").toLowerCase(java.util.Locale.ROOT);
        boolean relLayerNorm = false;
        for (String part : normRel.split("\\|")) {
            String p = part.strip();
            if (p.equals("layer_norm")) {
                relLayerNorm = true;
            } else if (!p.equals("none") && !p.isEmpty()) {
                throw r.error("norm_rel_ebd", "\"" + normRel + "\" is not supported (expected none or layer_norm)");
            }
        }
        int embedding = r.positiveInt("embedding_size", hidden);
        List<String> labels = labels(c, r);
        return new DebertaV2Config(
                r.positiveInt("vocab_size", null), hidden, embedding,
                r.positiveInt("num_hidden_layers", null), heads,
                r.positiveInt("intermediate_size", null),
                Activation.parse(r.string("hidden_act", "gelu"), where + ": hidden_act"),
                r.positiveDouble("layer_norm_eps", 1e-7), maxPos,
                r.bool("position_biased_input", true),
                r.nonNegativeInt("type_vocab_size", 0),
                relative, maxRel, buckets, posAtt.contains("c2p"), posAtt.contains("p2c"),
                r.bool("share_att_key", false), relLayerNorm,
                r.positiveInt("pooler_hidden_size", hidden),
                Activation.parse(r.string("pooler_hidden_act", "gelu"), where + ": pooler_hidden_act"),
                labels, r.integer("pad_token_id", 0));
    }

    private static List<String> labels(JsonNode c, Reader r) {
        JsonNode id2label = c.get("id2label");
        int n = c.hasNonNull("num_labels") ? r.positiveInt("num_labels", null) : -1;
        if (id2label == null || id2label.isNull()) {
            if (n < 0) {
                throw r.error("id2label", "missing (and no num_labels): the classifier's labels are unknown");
            }
            List<String> generic = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                generic.add("LABEL_" + i);
            }
            return List.copyOf(generic);
        }
        if (!id2label.isObject() || id2label.isEmpty()) {
            throw r.error("id2label", "expected a non-empty object such as {\"0\": \"BENIGN\", \"1\": \"MALICIOUS\"}");
        }
        String[] names = new String[id2label.size()];
        for (var e : id2label.properties()) {
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw r.error("id2label", "key \"" + e.getKey() + "\" is not a class index");
            }
            if (id < 0 || id >= names.length) {
                throw r.error("id2label", "class index " + id + " is outside 0.." + (names.length - 1)
                        + " (indices must be consecutive from 0)");
            }
            if (!e.getValue().isTextual()) {
                throw r.error("id2label", "label of class " + id + " is not a string: " + e.getValue());
            }
            names[id] = e.getValue().textValue();
        }
        if (n >= 0 && n != names.length) {
            throw r.error("num_labels", n + " disagrees with the " + names.length + " entries of id2label");
        }
        return List.of(names);
    }

    /** Typed field access with errors naming the file and field. */
    private record Reader(JsonNode c, String where) {
        ModelFormatException error(String field, String message) {
            return new ModelFormatException(where + ": \"" + field + "\": " + message);
        }

        String string(String field, String dflt) {
            JsonNode n = c.get(field);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isTextual()) {
                throw error(field, "expected a string, found " + n);
            }
            return n.textValue();
        }

        boolean bool(String field, boolean dflt) {
            JsonNode n = c.get(field);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isBoolean()) {
                throw error(field, "expected true or false, found " + n);
            }
            return n.booleanValue();
        }

        int integer(String field, Integer dflt) {
            JsonNode n = c.get(field);
            if (n == null || n.isNull()) {
                if (dflt == null) {
                    throw error(field, "missing");
                }
                return dflt;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw error(field, "expected an integer, found " + n);
            }
            return n.intValue();
        }

        int positiveInt(String field, Integer dflt) {
            int v = integer(field, dflt);
            if (v <= 0) {
                throw error(field, "must be positive, found " + v);
            }
            return v;
        }

        int nonNegativeInt(String field, Integer dflt) {
            int v = integer(field, dflt);
            if (v < 0) {
                throw error(field, "must not be negative, found " + v);
            }
            return v;
        }

        double positiveDouble(String field, double dflt) {
            JsonNode n = c.get(field);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isNumber() || !(n.doubleValue() > 0)) {
                throw error(field, "expected a positive number, found " + n);
            }
            return n.doubleValue();
        }
    }
}
