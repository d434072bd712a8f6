package org.llama4j.server;

import java.util.List;
import org.llama4j.generate.SamplingParams;

/**
 * One validated generation request, as the scheduler runs it.
 *
 * @param promptTokens token ids of the rendered prompt (never empty, shorter than a slot's context)
 * @param sampling     temperature, top-p, penalties, seed
 * @param maxTokens    most tokens to generate; fewer when the slot's context fills first
 * @param stops        stop strings: generation ends before the first one, which is not returned
 * @param topLogprobs  -1: no log-probabilities; 0..20: the chosen token's log-probability and this many alternatives
 */
public record GenerationJob(int[] promptTokens, SamplingParams sampling, int maxTokens, List<String> stops,
                            int topLogprobs) {
    public GenerationJob {
        if (promptTokens.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be positive");
        }
        stops = List.copyOf(stops);
    }

    public boolean wantsLogprobs() {
        return topLogprobs >= 0;
    }
}
