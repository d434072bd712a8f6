package org.llama4j.safety.promptguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llama4j.testing.Fixtures;

/** The forward pass against the prompt-guard-tiny goldens (transformers' arithmetic, float32). */
class DebertaV2FixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path dir;
    private static DebertaV2Classifier model;

    @BeforeAll
    static void load() {
        dir = Fixtures.require("prompt-guard-tiny");
        model = DebertaV2Classifier.load(dir);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void configIsReadAsTransformersDoes() {
        DebertaV2Config c = model.config();
        assertEquals(512, c.maxRelativePositions(), "max_relative_positions -1 means max_position_embeddings");
        assertEquals(32, c.attentionSpan());
        assertEquals(3, c.scaleFactor());
        assertEquals(List.of("BENIGN", "MALICIOUS"), c.labels());
        assertThat(c.positionBiasedInput()).isFalse();
        assertThat(c.shareAttKey()).isTrue();
        assertThat(c.normRelEmbeddingsLayerNorm()).isTrue();
    }

    @Test
    void bucketTablesMatchTorchFloat32ForTinyAndRealPromptGuard2() throws IOException {
        JsonNode root = JSON.readTree(dir.resolve("rel_pos_buckets.json").toFile());
        for (String key : List.of("this_model", "prompt_guard_2_real")) {
            JsonNode t = root.get(key);
            int buckets = t.get("position_buckets").intValue();
            int max = t.get("max_relative_positions").intValue();
            JsonNode rel = t.get("relative_positions");
            JsonNode expected = t.get("bucket");
            assertEquals(1023, rel.size());
            for (int i = 0; i < rel.size(); i++) {
                int r = rel.get(i).intValue();
                assertEquals(expected.get(i).intValue(), RelativePositions.bucket(r, buckets, max),
                        key + ": bucket of " + r);
            }
        }
    }

    @Test
    void debugInputMatchesLayerByLayer() throws IOException {
        JsonNode d = JSON.readTree(dir.resolve("debug_one_input.json").toFile());
        int[] ids = ints(d.get("input_ids"));
        int n = ids.length;
        JsonNode b = d.get("relative_position_buckets");
        int[] table = RelativePositions.bucketTable(n, 32, 512);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(b.get(i).get(j).intValue(), table[i - j + n - 1], "bucket(" + i + "," + j + ")");
            }
        }
        assertClose(flat(d.get("rel_embeddings_after_layernorm")), model.relativeEmbeddings(), 1e-5,
                "rel_embeddings after LayerNorm");
        DebertaV2Classifier.Output out = model.forward(ids, null, true);
        JsonNode hs = d.get("hidden_states");
        assertEquals(hs.size(), out.hiddenStates().size());
        for (int layer = 0; layer < hs.size(); layer++) {
            assertClose(flat(hs.get(layer)), out.hiddenStates().get(layer), 1e-4, "hidden_states[" + layer + "]");
        }
        assertClose(floats(d.get("pooled")), out.pooled(), 1e-4, "pooled");
        assertClose(floats(d.get("logits")), out.logits(), 1e-4, "logits");
        assertClose(floats(d.get("probs")), toFloats(out.probabilities()), 1e-4, "probs");
    }

    @Test
    void everySequenceLengthUpTo512() throws IOException {
        double worst = 0;
        for (JsonNode c : lines("seq_len_cases.jsonl")) {
            int len = c.get("length").intValue();
            double tol = len >= 512 ? 2e-4 : 1e-4;
            int[] ids = ints(c.get("input_ids"));
            assertEquals(len, ids.length);
            DebertaV2Classifier.Output out = model.forward(ids, null, true);
            float[] last = out.hiddenStates().getLast();
            int h = model.config().hiddenSize();
            String at = "length " + len;
            worst = Math.max(worst, assertClose(floats(c.get("logits")), out.logits(), tol, at + " logits"));
            assertClose(floats(c.get("probs")), toFloats(out.probabilities()), tol, at + " probs");
            assertClose(floats(c.get("pooled")), out.pooled(), tol, at + " pooled");
            assertClose(floats(c.get("last_hidden_first_token")), java.util.Arrays.copyOfRange(last, 0, h), tol,
                    at + " first token");
            assertClose(floats(c.get("last_hidden_last_token")),
                    java.util.Arrays.copyOfRange(last, (len - 1) * h, len * h), tol, at + " last token");
        }
        System.out.printf("prompt-guard-tiny seq_len_cases: max |Δlogit| %.2e%n", worst);
    }

    @Test
    void everyWindowOfTheClassificationCases() throws IOException {
        double worst = 0;
        for (JsonNode c : lines("cases.jsonl")) {
            for (JsonNode w : c.get("windows")) {
                DebertaV2Classifier.Output out = model.classify(ints(w.get("input_ids")));
                String at = c.get("id").textValue();
                worst = Math.max(worst, assertClose(floats(w.get("logits")), out.logits(), 1e-4, at + " logits"));
                assertClose(floats(w.get("probs")), toFloats(out.probabilities()), 1e-4, at + " probs");
            }
        }
        System.out.printf("prompt-guard-tiny cases: max |Δlogit| %.2e%n", worst);
    }

    @Test
    void paddedRowsGiveTheUnpaddedLogits() throws IOException {
        JsonNode p = JSON.readTree(dir.resolve("padded_batch_case.json").toFile());
        for (int row = 0; row < p.get("input_ids").size(); row++) {
            int[] ids = ints(p.get("input_ids").get(row));
            int[] mask = ints(p.get("attention_mask").get(row));
            DebertaV2Classifier.Output out = model.forward(ids, mask, false);
            assertClose(floats(p.get("logits").get(row)), out.logits(), 1e-4, "padded row " + row);
        }
    }

    static List<JsonNode> lines(String file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(file))) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    /** Asserts element-wise closeness and returns the largest difference. */
    static double assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            if (!(diff <= worst)) {
                worst = diff;
                worstAt = i;
            }
        }
        if (!(worst <= tol)) {
            throw new AssertionError(what + ": max |Δ| " + worst + " > " + tol + " at " + worstAt + " (expected "
                    + expected[worstAt] + ", got " + actual[worstAt] + ")");
        }
        return worst;
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).intValue();
        }
        return out;
    }

    static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).doubleValue();
        }
        return out;
    }

    static float[] flat(JsonNode rows) {
        List<Float> all = new ArrayList<>();
        rows.forEach(r -> r.forEach(v -> all.add((float) v.doubleValue())));
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return out;
    }

    static float[] toFloats(double[] d) {
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (float) d[i];
        }
        return out;
    }
}
