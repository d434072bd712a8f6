package org.llama4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks tokens from logits according to {@link SamplingParams}. One sampler belongs to one generation: it owns
 * the seeded random stream and the token history the penalties look at, so the same seed and prompt give the
 * same tokens. Not thread-safe.
 *
 * <p>Order of operations (the order llama.cpp and vLLM use): penalties, then top-k, top-p and min-p on the
 * temperature-scaled distribution, then a draw. Greedy decoding takes the argmax after penalties.
 */
public final class Sampler {
    /**
     * Candidates whose scaled logit is this far below the maximum have probability below e^-40 relative to the
     * best token; with at most a few million tokens their total mass is under 1e-10, so they are dropped before
     * sorting. That keeps top-p over a 202k vocabulary cheap without changing any result measurably.
     */
    private static final float NEGLIGIBLE_LOGIT_GAP = 40f;

    private final SamplingParams params;
    private final SplittableRandom random;
    private int[] history = new int[64];
    private int historySize;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() {
        return params;
    }

    /** Records a token the penalties should see (prompt tokens, if they should count, and generated ones). */
    public void accept(int token) {
        if (historySize == history.length) {
            history = Arrays.copyOf(history, history.length * 2);
        }
        history[historySize++] = token;
    }

    /** Chooses the next token. {@code logits} is modified (penalties applied in place). Does not record it. */
    public int sample(float[] logits) {
        applyPenalties(logits);
        if (params.isGreedy()) {
            return argmax(logits);
        }
        return draw(logits);
    }

    /** Applies the repetition, presence and frequency penalties in place. */
    public void applyPenalties(float[] logits) {
        boolean repetition = params.repetitionPenalty() != 1f;
        boolean presence = params.presencePenalty() != 0f;
        boolean frequency = params.frequencyPenalty() != 0f;
        if (!(repetition || presence || frequency) || historySize == 0) {
            return;
        }
        int from = params.penaltyWindow() == 0 ? 0 : Math.max(0, historySize - params.penaltyWindow());
        int[] window = Arrays.copyOfRange(history, from, historySize);
        Arrays.sort(window);
        for (int i = 0; i < window.length; ) {
            int token = window[i];
            int count = 0;
            while (i < window.length && window[i] == token) {
                count++;
                i++;
            }
            if (token < 0 || token >= logits.length) {
                continue;
            }
            float l = logits[token];
            if (repetition) {
                l = l > 0 ? l / params.repetitionPenalty() : l * params.repetitionPenalty();
            }
            l -= count * params.frequencyPenalty() + (presence ? params.presencePenalty() : 0f);
            logits[token] = l;
        }
    }

    public static int argmax(float[] logits) {
        int best = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > max) {
                max = logits[i];
                best = i;
            }
        }
        return best;
    }

    private int draw(float[] logits) {
        float invT = 1f / params.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        if (max == Float.NEGATIVE_INFINITY || Float.isNaN(max)) {
            throw new IllegalStateException("no token can be sampled: all logits are -inf or NaN");
        }
        boolean filters = params.topK() > 0 || params.topP() < 1f || params.minP() > 0f;
        // Candidates as (token, probability) sorted by descending logit, only when a filter needs the order.
        int[] ids = candidates(logits, max, invT, filters);
        int n = ids.length;
        if (params.topK() > 0) {
            n = Math.min(n, params.topK());
        }
        double[] p = new double[n];
        double sum = 0;
        float scaledMax = max * invT;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(logits[ids[i]] * invT - scaledMax);
            sum += p[i];
        }
        if (params.minP() > 0f) {
            // p[0] is the most likely candidate when the list is sorted (filters on).
            double threshold = params.minP() * p[0];
            int kept = 0;
            while (kept < n && p[kept] >= threshold) {
                kept++;
            }
            n = Math.max(1, kept);
            sum = 0;
            for (int i = 0; i < n; i++) {
                sum += p[i];
            }
        }
        if (params.topP() < 1f) {
            double target = params.topP() * sum;
            double cumulative = 0;
            int kept = 0;
            while (kept < n) {
                cumulative += p[kept++];
                if (cumulative >= target) {
                    break;
                }
            }
            n = kept;
            sum = cumulative;
        }
        double r = random.nextDouble() * sum;
        for (int i = 0; i < n; i++) {
            r -= p[i];
            if (r < 0) {
                return ids[i];
            }
        }
        return ids[n - 1];
    }

    private static int[] candidates(float[] logits, float max, float invT, boolean sorted) {
        float cut = max - NEGLIGIBLE_LOGIT_GAP / invT;
        int count = 0;
        for (float l : logits) {
            if (l >= cut) {
                count++;
            }
        }
        if (!sorted) {
            int[] ids = new int[count];
            int j = 0;
            for (int i = 0; i < logits.length; i++) {
                if (logits[i] >= cut) {
                    ids[j++] = i;
                }
            }
            return ids;
        }
        // Sort by descending logit, ties by ascending id: pack an order-preserving key and the id in a long.
        long[] keys = new long[count];
        int j = 0;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] >= cut) {
                int bits = Float.floatToIntBits(logits[i]);
                int ordered = bits < 0 ? bits ^ 0x7fffffff : bits; // signed-int order == float order
                keys[j++] = ((long) ~ordered << 32) | i; // ~ reverses the order: descending logit
            }
        }
        Arrays.sort(keys);
        int[] ids = new int[count];
        for (int k = 0; k < count; k++) {
            ids[k] = (int) keys[k];
        }
        return ids;
    }
}
