package org.llama4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.llama4j.testing.TinyModels;

/** Session behaviour on a generated model: prefill chunks that need no logits, and what they leave in the cache. */
class InferenceSessionTest {

    @Test
    void prefillWithoutAnyLogitsStillFillsTheCache() {
        try (Llama4Model model = Llama4Model.load(TinyModels.tinyGguf())) {
            int[] prompt = {1, 2, 3, 4, 5, 6};
            float[] expected;
            try (InferenceSession whole = model.newSession()) {
                expected = whole.ingest(prompt);
            }
            try (InferenceSession split = model.newSession()) {
                float[][] none = split.ingest(new int[] {1, 2, 3, 4, 5}, p -> false);
                assertThat(java.util.Arrays.asList(none)).hasSize(5).containsOnlyNulls();
                assertThat(split.position()).isEqualTo(5);
                float[] last = split.decode(6);
                assertThat(maxAbs(last, expected)).isLessThan(1e-4);
            }
        }
    }

    private static double maxAbs(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
