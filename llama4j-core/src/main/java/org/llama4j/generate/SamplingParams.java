package org.llama4j.generate;

/**
 * How the next token is chosen from the logits. Penalties apply first, then the candidate filters (top-k,
 * top-p, min-p), then temperature; a temperature of 0 means greedy (argmax after penalties).
 *
 * @param temperature       0 for greedy; otherwise logits are divided by it before the softmax
 * @param topK              keep the k most likely tokens (0 = off)
 * @param topP              keep the smallest set whose probability reaches p (1 = off)
 * @param minP              drop tokens less likely than minP × the most likely one (0 = off)
 * @param repetitionPenalty CTRL-style: a seen token's positive logit is divided by it, a negative one multiplied (1 = off)
 * @param presencePenalty   OpenAI-style: subtracted once from the logit of every token seen so far (0 = off)
 * @param frequencyPenalty  OpenAI-style: subtracted per occurrence of a token seen so far (0 = off)
 * @param penaltyWindow     how many of the most recent tokens the penalties look at (0 = all)
 * @param seed              seed of the random generator, for reproducible sampling
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        float presencePenalty,
        float frequencyPenalty,
        int penaltyWindow,
        long seed) {

    public SamplingParams {
        check(Float.isFinite(temperature) && temperature >= 0, "temperature must be >= 0, got " + temperature);
        check(topK >= 0, "top_k must be >= 0, got " + topK);
        check(topP > 0 && topP <= 1, "top_p must be in (0, 1], got " + topP);
        check(minP >= 0 && minP <= 1, "min_p must be in [0, 1], got " + minP);
        check(Float.isFinite(repetitionPenalty) && repetitionPenalty > 0,
                "repetition penalty must be > 0, got " + repetitionPenalty);
        check(Float.isFinite(presencePenalty) && Math.abs(presencePenalty) <= 2,
                "presence penalty must be in [-2, 2], got " + presencePenalty);
        check(Float.isFinite(frequencyPenalty) && Math.abs(frequencyPenalty) <= 2,
                "frequency penalty must be in [-2, 2], got " + frequencyPenalty);
        check(penaltyWindow >= 0, "penalty window must be >= 0, got " + penaltyWindow);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public static SamplingParams greedy() {
        return new SamplingParams(0f, 0, 1f, 0f, 1f, 0f, 0f, 0, 0L);
    }

    /** Meta's recommended defaults for Llama 4 chat (temperature 0.6, top-p 0.9). */
    public static SamplingParams defaults(long seed) {
        return new SamplingParams(0.6f, 0, 0.9f, 0f, 1f, 0f, 0f, 0, seed);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }

    public SamplingParams withTemperature(float t) {
        return new SamplingParams(t, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed);
    }

    public SamplingParams withTopP(float p) {
        return new SamplingParams(temperature, topK, p, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed);
    }

    public SamplingParams withMinP(float p) {
        return new SamplingParams(temperature, topK, topP, p, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed);
    }

    public SamplingParams withRepetitionPenalty(float r) {
        return new SamplingParams(temperature, topK, topP, minP, r, presencePenalty, frequencyPenalty, penaltyWindow, seed);
    }

    public SamplingParams withPresencePenalty(float p) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, p, frequencyPenalty, penaltyWindow, seed);
    }

    public SamplingParams withFrequencyPenalty(float f) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, f, penaltyWindow, seed);
    }

    public SamplingParams withPenaltyWindow(int w) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, w, seed);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, s);
    }
}
