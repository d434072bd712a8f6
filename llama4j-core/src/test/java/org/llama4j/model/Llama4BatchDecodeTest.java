package org.llama4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Llama4Model#decodeBatch}: several sequences at different positions decoded in one forward pass. */
class Llama4BatchDecodeTest {
    /** 4 layers (layer 3 NoPE), MoE on layers 1 and 3, chunk 5: the sequences below cross chunk boundaries. */
    private static final Llama4Config CONFIG = RandomLlama4.config(4, 2, 4, 2, 5, 3f, true, 64);

    @Test
    void batchedDecodeEqualsPerSequenceDecodeForSequencesAtDifferentPositions() {
        Llama4Model model = new RandomLlama4(CONFIG, 11).model();
        Random random = new Random(12);
        int sequences = 4;
        int[] promptLengths = {1, 4, 7, 13};
        InferenceSession[] solo = new InferenceSession[sequences];
        KvCache[] batched = new KvCache[sequences];
        int[] next = new int[sequences];
        for (int s = 0; s < sequences; s++) {
            int[] prompt = random.ints(promptLengths[s], 0, CONFIG.vocabSize()).toArray();
            solo[s] = model.newSession();
            float[] soloLogits = solo[s].ingest(prompt);
            batched[s] = new KvCache(CONFIG);
            float[][] prefill = model.forward(prompt, 0, batched[s], p -> p == prompt.length - 1,
                    ForwardListener.NONE);
            assertThat(prefill[prompt.length - 1]).containsExactly(soloLogits);
            next[s] = random.nextInt(CONFIG.vocabSize());
        }
        for (int step = 0; step < 9; step++) {
            float[][] together = model.decodeBatch(next.clone(), batched);
            for (int s = 0; s < sequences; s++) {
                float[] alone = solo[s].decode(next[s]);
                assertThat(maxAbs(together[s], alone)).as("sequence %d step %d", s, step).isLessThan(1e-5);
                assertThat(batched[s].position()).isEqualTo(solo[s].position());
                next[s] = random.nextInt(CONFIG.vocabSize());
            }
        }
    }

    @Test
    void sequencesMayNotShareACacheOrRunPastTheirContext() {
        Llama4Model model = new RandomLlama4(CONFIG, 13).model();
        KvCache shared = new KvCache(CONFIG);
        assertThatThrownBy(() -> model.decodeBatch(new int[] {1, 2}, new KvCache[] {shared, shared}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shares");
        KvCache tiny = new KvCache(CONFIG, 2);
        model.decodeBatch(new int[] {1}, new KvCache[] {tiny});
        model.decodeBatch(new int[] {1}, new KvCache[] {tiny});
        assertThatThrownBy(() -> model.decodeBatch(new int[] {1}, new KvCache[] {tiny}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("context length");
        assertThatThrownBy(() -> model.decodeBatch(new int[] {1, 2}, new KvCache[] {tiny}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static double maxAbs(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
