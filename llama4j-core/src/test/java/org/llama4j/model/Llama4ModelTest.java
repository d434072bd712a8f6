package org.llama4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The forward pass on small random in-memory models, checked against {@link NaiveLlama4}. */
class Llama4ModelTest {
    private static final double TOL = 2e-4;

    /** 4 layers (layer 3 NoPE), MoE on layers 1 and 3 with 4 experts top-2, chunk 5, temperature step at 3. */
    private static final Llama4Config INTERLEAVED = RandomLlama4.config(4, 2, 4, 2, 5, 3f, true, 128);

    private static int[] randomTokens(int n, long seed, int vocab) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    private static double maxAbs(float[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static double maxAbs(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void prefillMatchesNaiveFullMaskReferenceAcrossManyChunks() {
        RandomLlama4 m = new RandomLlama4(INTERLEAVED, 1);
        int[] tokens = randomTokens(23, 2, INTERLEAVED.vocabSize());
        NaiveLlama4 ref = new NaiveLlama4(m, tokens);
        float[][] logits = m.model().newSession().ingestAll(tokens);
        for (int t = 0; t < tokens.length; t++) {
            assertThat(maxAbs(logits[t], ref.logits[t])).as("position %d", t).isLessThan(TOL);
        }
    }

    @Test
    void hfInputMajorExpertsGiveTheSameLogitsAsGgufLayout() {
        RandomLlama4 m = new RandomLlama4(INTERLEAVED, 3);
        int[] tokens = randomTokens(12, 4, INTERLEAVED.vocabSize());
        float[][] gguf = new Llama4Model(INTERLEAVED, m.ggufLayout()).newSession().ingestAll(tokens);
        float[][] hf = new Llama4Model(INTERLEAVED, m.hfLayout()).newSession().ingestAll(tokens);
        for (int t = 0; t < tokens.length; t++) {
            assertThat(maxAbs(hf[t], gguf[t])).isLessThan(1e-5);
        }
    }

    @Test
    void stepByStepDecodeEqualsPrefillAcrossChunkBoundaries() {
        RandomLlama4 m = new RandomLlama4(INTERLEAVED, 5);
        Llama4Model model = m.model();
        int[] tokens = randomTokens(31, 6, INTERLEAVED.vocabSize());
        float[][] prefill = model.newSession().ingestAll(tokens);
        try (InferenceSession s = model.newSession()) {
            for (int t = 0; t < tokens.length; t++) {
                float[] step = s.decode(tokens[t]);
                assertThat(maxAbs(step, prefill[t])).as("position %d", t).isLessThan(1e-5);
            }
            assertThat(s.position()).isEqualTo(tokens.length);
        }
    }

    @Test
    void mixedPrefillAndDecodeWithSmallBatchesMatchReference() {
        RandomLlama4 m = new RandomLlama4(INTERLEAVED, 7);
        int[] tokens = randomTokens(29, 8, INTERLEAVED.vocabSize());
        NaiveLlama4 ref = new NaiveLlama4(m, tokens);
        // batches of 3 straddle the chunk boundaries (chunk 5) at different offsets
        InferenceSession s = new InferenceSession(m.model(), new KvCache(INTERLEAVED), 3);
        float[][] first = s.ingestAll(java.util.Arrays.copyOfRange(tokens, 0, 11));
        List<float[]> all = new ArrayList<>(List.of(first));
        for (int t = 11; t < 17; t++) {
            all.add(s.decode(tokens[t]));
        }
        all.addAll(List.of(s.ingestAll(java.util.Arrays.copyOfRange(tokens, 17, 29))));
        for (int t = 0; t < tokens.length; t++) {
            assertThat(maxAbs(all.get(t), ref.logits[t])).as("position %d", t).isLessThan(TOL);
        }
    }

    @Test
    void everyLayerMoeWithoutQkNormMatchesReference() {
        Llama4Config c = RandomLlama4.config(5, 1, 6, 1, 4, 2f, false, 64);
        RandomLlama4 m = new RandomLlama4(c, 9);
        int[] tokens = randomTokens(18, 10, c.vocabSize());
        NaiveLlama4 ref = new NaiveLlama4(m, tokens);
        float[][] logits = m.model().newSession().ingestAll(tokens);
        for (int t = 0; t < tokens.length; t++) {
            assertThat(maxAbs(logits[t], ref.logits[t])).as("position %d", t).isLessThan(TOL);
        }
    }

    @Test
    void routingUsesSeveralExpertsAndMatchesReference() {
        RandomLlama4 m = new RandomLlama4(INTERLEAVED, 11);
        int[] tokens = randomTokens(24, 12, INTERLEAVED.vocabSize());
        NaiveLlama4 ref = new NaiveLlama4(m, tokens);
        int[][] top1 = new int[INTERLEAVED.layerCount()][tokens.length];
        InferenceSession s = m.model().newSession();
        s.setListener(new ForwardListener() {
            @Override
            public void routing(int layer, int position, int[] experts, float[] gates) {
                assertThat(experts).hasSize(2).doesNotHaveDuplicates();
                assertThat(gates[0]).isGreaterThanOrEqualTo(gates[1]).isBetween(0f, 1f);
                top1[layer][position] = experts[0];
            }
        });
        s.ingest(tokens);
        for (int layer : INTERLEAVED.moeLayers()) {
            assertThat(top1[layer]).isEqualTo(ref.top1PerLayer[layer]);
            Set<Integer> used = new HashSet<>();
            for (int e : top1[layer]) {
                used.add(e);
            }
            assertThat(used.size()).as("experts used in layer %d", layer).isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void temperatureTuningStartsAtFloorScaleAndChangesNoPeOutputs() {
        Llama4Model model = new RandomLlama4(INTERLEAVED, 13).model();
        assertThat(model.attentionTemperature(0)).isEqualTo(1f);
        assertThat(model.attentionTemperature(1)).isEqualTo(1f);
        assertThat(model.attentionTemperature(2)).isCloseTo((float) (1 + 0.3 * Math.log(2)), org.assertj.core.data.Offset.offset(1e-6f));
        assertThat(model.attentionTemperature(8)).isCloseTo((float) (1 + 0.3 * Math.log(4)), org.assertj.core.data.Offset.offset(1e-6f));

        // The same model without temperature tuning agrees before the first step and differs after it.
        Llama4Config c = INTERLEAVED;
        Llama4Config off = new Llama4Config(c.architecture(), c.vocabSize(), c.hiddenSize(), c.layerCount(), c.headCount(),
                c.kvHeadCount(), c.headDim(), c.expertCount(), c.expertsPerToken(), c.expertFfnWidth(),
                c.denseFfnWidth(), c.moeLayers(), c.noRopeLayers(), c.attentionChunkSize(), c.useQkNorm(), false,
                c.floorScale(), c.attnScale(), c.ropeTheta(), c.ropeScaling(), c.rmsNormEps(), c.contextLength(),
                c.bosTokenId(), c.eosTokenIds(), c.padTokenId());
        RandomLlama4 m = new RandomLlama4(INTERLEAVED, 13);
        int[] tokens = randomTokens(6, 14, c.vocabSize());
        float[][] with = new Llama4Model(c, m.ggufLayout()).newSession().ingestAll(tokens);
        float[][] without = new Llama4Model(off, m.ggufLayout()).newSession().ingestAll(tokens);
        assertThat(maxAbs(with[0], without[0])).isZero();
        assertThat(maxAbs(with[1], without[1])).isZero();
        assertThat(maxAbs(with[2], without[2])).isGreaterThan(1e-3);
    }

    @Test
    void kvCacheOfChunkedLayersStaysWithinOneChunk() {
        RandomLlama4 m = new RandomLlama4(INTERLEAVED, 15);
        InferenceSession s = m.model().newSession();
        s.ingest(randomTokens(100, 16, INTERLEAVED.vocabSize()));
        for (int i = 0; i < 20; i++) {
            s.decode(i);
        }
        KvCache cache = s.cache();
        for (int l = 0; l < INTERLEAVED.layerCount(); l++) {
            KvCache.Layer layer = cache.layer(l);
            if (INTERLEAVED.usesRope(l)) {
                assertThat(layer.chunked()).isTrue();
                assertThat(layer.capacity()).isEqualTo(INTERLEAVED.attentionChunkSize());
            } else {
                assertThat(layer.chunked()).isFalse();
                assertThat(layer.capacity()).isBetween(120, 128);
            }
        }
        long perSlot = 2L * INTERLEAVED.kvHeadCount() * INTERLEAVED.headDim() * Float.BYTES;
        assertThat(cache.allocatedBytes()).isEqualTo(perSlot * (3 * 5 + cache.layer(3).capacity()));
    }

    @Test
    void contextLengthIsEnforced() {
        Llama4Config c = RandomLlama4.config(4, 2, 4, 1, 5, 3f, true, 20);
        InferenceSession s = new RandomLlama4(c, 17).model().newSession();
        s.ingest(randomTokens(18, 18, c.vocabSize()));
        s.decode(3);
        s.decode(4);
        assertThat(s.position()).isEqualTo(20);
        assertThatThrownBy(() -> s.decode(5)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("context length 20");
    }

    @Test
    void rejectsTokensOutsideTheVocabulary() {
        InferenceSession s = new RandomLlama4(INTERLEAVED, 19).model().newSession();
        assertThatThrownBy(() -> s.decode(INTERLEAVED.vocabSize())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("vocabulary");
    }
}
