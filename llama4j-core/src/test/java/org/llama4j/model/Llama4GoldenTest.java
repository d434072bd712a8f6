package org.llama4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.testing.Fixtures;

/**
 * tiny-scout and tiny-maverick (Llama 4) and llama3-tiny (dense Llama 3.2-style, tied embeddings, q/k permuted in
 * the HF folder) against the Meta reference goldens, loaded from the HF folder and from the BF16 GGUF (which hold
 * the same bf16 values, so both must meet the float32 tolerance).
 */
class Llama4GoldenTest {
    private static final double LOGITS_TOL = 1e-4;

    static Stream<Arguments> checkpoints() {
        return Stream.of(
                Arguments.of("llama4-tiny/tiny-scout", ""),
                Arguments.of("llama4-tiny/tiny-scout", "tiny-scout.BF16.gguf"),
                Arguments.of("llama4-tiny/tiny-maverick", ""),
                Arguments.of("llama4-tiny/tiny-maverick", "tiny-maverick.BF16.gguf"),
                Arguments.of("llama3-tiny", ""),
                Arguments.of("llama3-tiny", "llama3-tiny.BF16.gguf"));
    }

    private static Path dir(String model) {
        return Fixtures.require(model);
    }

    private static Llama4Model load(Path dir, String file) {
        return Llama4Model.load(file.isEmpty() ? dir : dir.resolve(file));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("checkpoints")
    void logitsFinalNormAndRoutingOfEverySequence(String model, String file) {
        Path dir = dir(model);
        JsonNode index = Goldens.index(dir);
        try (Llama4Model m = load(dir, file)) {
            int dim = m.config().hiddenSize();
            int vocab = m.config().vocabSize();
            double worstLogits = 0;
            double worstNorm = 0;
            for (JsonNode seq : index.get("sequences")) {
                int[] tokens = Goldens.ints(seq.get("tokens"));
                float[][] finalNorm = new float[tokens.length][];
                Map<Integer, int[]> routing = new TreeMap<>();
                InferenceSession s = m.newSession();
                s.setListener(new ForwardListener() {
                    @Override
                    public void finalNorm(int position, float[] x, int offset, int length) {
                        finalNorm[position] = Arrays.copyOfRange(x, offset, offset + length);
                    }

                    @Override
                    public void routing(int layer, int position, int[] experts, float[] gates) {
                        routing.computeIfAbsent(layer, l -> new int[tokens.length])[position] = experts[0];
                    }
                });
                float[][] logits = s.ingestAll(tokens);

                float[] expected = Goldens.floats(dir, seq.get("logits_file").asText());
                int[] positions = Goldens.ints(seq.get("logits_positions"));
                for (int i = 0; i < positions.length; i++) {
                    double err = Goldens.maxAbs(logits[positions[i]], expected, i * vocab);
                    assertThat(err).as("seq %d position %d logits", seq.get("id").asInt(), positions[i])
                            .isLessThan(LOGITS_TOL);
                    worstLogits = Math.max(worstLogits, err);
                }
                float[] expectedNorm = Goldens.floats(dir, seq.get("final_norm_hidden_file").asText());
                for (int p = 0; p < tokens.length; p++) {
                    double err = Goldens.maxAbs(finalNorm[p], expectedNorm, p * dim);
                    assertThat(err).as("seq %d position %d final norm", seq.get("id").asInt(), p).isLessThan(LOGITS_TOL);
                    worstNorm = Math.max(worstNorm, err);
                }
                Iterator<Map.Entry<String, JsonNode>> it = seq.path("routing_top1_per_moe_layer").properties().iterator();
                List<Integer> layers = new ArrayList<>();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    int layer = Integer.parseInt(e.getKey());
                    layers.add(layer);
                    assertThat(routing.get(layer)).as("seq %d layer %d top-1 experts", seq.get("id").asInt(), layer)
                            .isEqualTo(Goldens.ints(e.getValue()));
                }
                assertThat(routing.keySet()).containsExactlyElementsOf(layers);
            }
            System.out.printf("[golden] %s %s: logits max-abs %.3g, final-norm max-abs %.3g%n", model,
                    file.isEmpty() ? "HF" : file, worstLogits, worstNorm);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("checkpoints")
    void hiddenStatesAfterEveryBlock(String model, String file) {
        Path dir = dir(model);
        JsonNode hs = Goldens.index(dir).get("hidden_states");
        try (Llama4Model m = load(dir, file)) {
            int dim = m.config().hiddenSize();
            int[] tokens = Goldens.ints(hs.get("tokens"));
            int rows = m.config().layerCount() + 2;
            float[][][] got = new float[rows][tokens.length][];
            InferenceSession s = m.newSession();
            s.setListener(new ForwardListener() {
                @Override
                public void embedding(int position, float[] x, int offset, int length) {
                    got[0][position] = Arrays.copyOfRange(x, offset, offset + length);
                }

                @Override
                public void blockOutput(int layer, int position, float[] x, int offset, int length) {
                    got[1 + layer][position] = Arrays.copyOfRange(x, offset, offset + length);
                }

                @Override
                public void finalNorm(int position, float[] x, int offset, int length) {
                    got[rows - 1][position] = Arrays.copyOfRange(x, offset, offset + length);
                }
            });
            s.ingest(tokens);
            float[] expected = Goldens.floats(dir, hs.get("file").asText());
            assertThat(expected).hasSize(rows * tokens.length * dim);
            double worst = 0;
            for (int r = 0; r < rows; r++) {
                for (int p = 0; p < tokens.length; p++) {
                    double err = Goldens.maxAbs(got[r][p], expected, (r * tokens.length + p) * dim);
                    assertThat(err).as("row %s position %d", hs.get("rows").get(r).asText(), p).isLessThan(1e-4);
                    worst = Math.max(worst, err);
                }
            }
            System.out.printf("[golden] %s %s: hidden states max-abs %.3g%n", model, file.isEmpty() ? "HF" : file, worst);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("checkpoints")
    void greedyContinuationsByIncrementalDecode(String model, String file) {
        Path dir = dir(model);
        try (Llama4Model m = load(dir, file)) {
            for (JsonNode g : Goldens.index(dir).get("greedy")) {
                int[] expected = Goldens.ints(g.get("generated"));
                InferenceSession s = m.newSession();
                float[] logits = s.ingest(Goldens.ints(g.get("prompt")));
                int[] generated = new int[expected.length];
                for (int i = 0; i < expected.length; i++) {
                    generated[i] = Goldens.argmax(logits);
                    if (i + 1 < expected.length) {
                        logits = s.decode(generated[i]);
                    }
                }
                assertThat(generated).isEqualTo(expected);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("checkpoints")
    void incrementalDecodeReproducesFullPrefill(String model, String file) {
        Path dir = dir(model);
        // Llama 4: 40 tokens, crossing chunk boundaries 16 and 32; llama3-tiny: 100 tokens.
        JsonNode seq = Goldens.index(dir).get("sequences").get(2);
        int[] tokens = Goldens.ints(seq.get("tokens"));
        try (Llama4Model m = load(dir, file)) {
            float[][] prefill = m.newSession().ingestAll(tokens);
            InferenceSession s = m.newSession();
            double worst = 0;
            for (int p = 0; p < tokens.length; p++) {
                float[] step = s.decode(tokens[p]);
                worst = Math.max(worst, Goldens.maxAbs(step, prefill[p], 0));
            }
            assertThat(worst).isLessThan(1e-5);
            System.out.printf("[golden] %s %s: decode vs prefill max-abs %.3g over %d tokens%n", model,
                    file.isEmpty() ? "HF" : file, worst, tokens.length);
        }
    }
}
