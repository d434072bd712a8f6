package org.llama4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llama4j.testing.Fixtures;

/**
 * 20,000 tokens with the real chunk size 8192 and floor_scale 8192: RoPE layers restart at 8192 and 16384, the
 * NoPE temperature steps at 8191; the stored positions sit on both sides of both boundaries.
 */
class Llama4LongContextTest {

    @ParameterizedTest(name = "from [{0}] (empty = HF folder)")
    @ValueSource(strings = {"", "long-context.BF16.gguf"})
    void matchesReferenceAtEveryStoredPosition(String file) {
        Path dir = Fixtures.require("llama4-tiny/long-context");
        JsonNode seq = Goldens.index(dir).get("sequences").get(0);
        int[] tokens = Goldens.ints(dir, seq.get("tokens_file").asText());
        int[] positions = Goldens.ints(seq.get("logits_positions"));
        Map<Integer, Integer> row = new HashMap<>();
        for (int i = 0; i < positions.length; i++) {
            row.put(positions[i], i);
        }
        float[] expected = Goldens.floats(dir, seq.get("logits_file").asText());
        try (Llama4Model m = Llama4Model.load(file.isEmpty() ? dir : dir.resolve(file))) {
            InferenceSession s = m.newSession();
            float[][] logits = s.ingest(tokens, row::containsKey);
            int vocab = m.config().vocabSize();
            double worst = 0;
            for (int p : positions) {
                double err = Goldens.maxAbs(logits[p], expected, row.get(p) * vocab);
                assertThat(err).as("position %d", p).isLessThan(1e-4);
                worst = Math.max(worst, err);
            }
            // the RoPE layers never held more than one chunk
            assertThat(s.cache().layer(0).capacity()).isEqualTo(8192);
            System.out.printf("[golden] long-context %s: max-abs %.3g over %d positions%n",
                    file.isEmpty() ? "HF" : file, worst, positions.length);
        }
    }
}
