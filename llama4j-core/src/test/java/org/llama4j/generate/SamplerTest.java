package org.llama4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static float[] logits(float... v) {
        return v.clone();
    }

    @Test
    void greedyTakesArgmaxAfterPenalties() {
        Sampler s = new Sampler(SamplingParams.greedy());
        assertThat(s.sample(logits(1f, 3f, 2f))).isEqualTo(1);

        Sampler penalised = new Sampler(SamplingParams.greedy().withRepetitionPenalty(2f));
        penalised.accept(1);
        // 3/2 = 1.5 < 2: the repeated token loses its lead
        assertThat(penalised.sample(logits(1f, 3f, 2f))).isEqualTo(2);
    }

    @Test
    void repetitionPenaltyMultipliesNegativeLogits() {
        Sampler s = new Sampler(SamplingParams.greedy().withRepetitionPenalty(2f));
        s.accept(0);
        float[] l = logits(-1f, 0.5f);
        s.applyPenalties(l);
        assertThat(l).containsExactly(-2f, 0.5f);
    }

    @Test
    void presenceAndFrequencyPenaltiesFollowOpenAi() {
        Sampler s = new Sampler(SamplingParams.greedy().withPresencePenalty(0.5f).withFrequencyPenalty(0.25f));
        s.accept(2);
        s.accept(2);
        s.accept(0);
        float[] l = logits(1f, 1f, 1f);
        s.applyPenalties(l);
        assertThat(l[0]).isEqualTo(1f - 0.5f - 0.25f);
        assertThat(l[1]).isEqualTo(1f);
        assertThat(l[2]).isEqualTo(1f - 0.5f - 0.5f);
    }

    @Test
    void penaltyWindowOnlySeesRecentTokens() {
        Sampler s = new Sampler(SamplingParams.greedy().withPresencePenalty(1f).withPenaltyWindow(1));
        s.accept(0);
        s.accept(1);
        float[] l = logits(0f, 0f);
        s.applyPenalties(l);
        assertThat(l).containsExactly(0f, -1f);
    }

    @Test
    void sameSeedSameTokensDifferentSeedDiffers() {
        float[] base = new float[1000];
        for (int i = 0; i < base.length; i++) {
            base[i] = (float) Math.sin(i * 0.37) * 2;
        }
        int[] a = run(base, 42);
        int[] b = run(base, 42);
        int[] c = run(base, 43);
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
    }

    private static int[] run(float[] base, long seed) {
        Sampler s = new Sampler(SamplingParams.defaults(seed).withTemperature(1f).withTopP(1f));
        int[] out = new int[50];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.sample(base.clone());
        }
        return out;
    }

    @Test
    void topKRestrictsToKBest() {
        float[] l = logits(5f, 4f, 3f, 2f, 1f);
        Sampler s = new Sampler(SamplingParams.defaults(1).withTemperature(5f).withTopP(1f).withTopK(2));
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            seen.add(s.sample(l.clone()));
        }
        assertThat(seen).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void topPKeepsSmallestNucleus() {
        // probabilities 0.5, 0.3, 0.2 (temperature 1): top_p 0.7 keeps the first two only
        float[] l = logits((float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2));
        Sampler s = new Sampler(SamplingParams.defaults(7).withTemperature(1f).withTopP(0.7f));
        int[] counts = new int[3];
        for (int i = 0; i < 4000; i++) {
            counts[s.sample(l.clone())]++;
        }
        assertThat(counts[2]).isZero();
        // renormalised 0.625 / 0.375
        assertThat(counts[0] / 4000.0).isBetween(0.58, 0.67);
    }

    @Test
    void minPDropsUnlikelyTokens() {
        float[] l = logits(0f, -1f, -5f);
        Sampler s = new Sampler(SamplingParams.defaults(3).withTemperature(1f).withTopP(1f).withMinP(0.1f));
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            seen.add(s.sample(l.clone()));
        }
        // e^-5 < 0.1 of the best, e^-1 is not
        assertThat(seen).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void samplingMatchesTheSoftmaxDistribution() {
        float[] l = logits(1f, 0f, -1f, 2f);
        Sampler s = new Sampler(SamplingParams.defaults(11).withTemperature(1f).withTopP(1f));
        int[] counts = new int[4];
        int n = 20000;
        for (int i = 0; i < n; i++) {
            counts[s.sample(l.clone())]++;
        }
        double z = Arrays.stream(new double[] {1, 0, -1, 2}).map(Math::exp).sum();
        for (int i = 0; i < 4; i++) {
            double expected = Math.exp(l[i]) / z;
            assertThat(counts[i] / (double) n).isCloseTo(expected, org.assertj.core.data.Offset.offset(0.015));
        }
    }

    @Test
    void sortedCandidatesHandleNegativeAndPositiveLogits() {
        float[] l = logits(-3f, 2f, -0.5f, 0.25f, 7f, -7f);
        Sampler s = new Sampler(SamplingParams.defaults(5).withTemperature(0.01f).withTopK(1));
        assertThat(s.sample(l.clone())).isEqualTo(4);
    }

    @Test
    void invalidParametersAreRejected() {
        assertThatThrownBy(() -> SamplingParams.greedy().withTemperature(-1f)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> SamplingParams.greedy().withTopP(0f)).hasMessageContaining("top_p");
        assertThatThrownBy(() -> SamplingParams.greedy().withTopK(-1)).hasMessageContaining("top_k");
        assertThatThrownBy(() -> SamplingParams.greedy().withPresencePenalty(3f)).hasMessageContaining("presence");
    }

    @Test
    void allMinusInfinityIsAnError() {
        Sampler s = new Sampler(SamplingParams.defaults(1));
        float[] l = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertThatThrownBy(() -> s.sample(l)).hasMessageContaining("-inf");
    }
}
