package org.llama4j.server;

import org.llama4j.generate.Sampler;
import org.llama4j.generate.SamplingParams;

/**
 * Chooses each next token of one generation. Production uses {@link #standard}, a {@link Sampler}; the seam
 * exists so tests can script the model's output text (e.g. force a tool call) without touching the HTTP,
 * scheduling or parsing code around it.
 */
public interface TokenSampler {

    /** Chooses the next token; may modify {@code logits}. */
    int sample(float[] logits);

    /** Records a generated token (penalties look at the tokens generated so far). */
    void accept(int token);

    /** Makes one sampler per request. */
    @FunctionalInterface
    interface Factory {
        TokenSampler create(SamplingParams params, int[] promptTokens);
    }

    /** Penalties over the completion's own tokens (as OpenAI and vLLM do), then temperature/top-p/seeded draw. */
    static Factory standard() {
        return (params, promptTokens) -> {
            Sampler sampler = new Sampler(params);
            return new TokenSampler() {
                @Override
                public int sample(float[] logits) {
                    return sampler.sample(logits);
                }

                @Override
                public void accept(int token) {
                    sampler.accept(token);
                }
            };
        };
    }
}
