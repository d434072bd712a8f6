package org.llama4j.server;

import java.util.List;
import java.util.function.IntFunction;
import org.llama4j.generate.SamplingParams;

/**
 * One validated generation request, as the scheduler runs it.
 *
 * @param promptTokens token ids of the rendered prompt (never empty, shorter than a slot's context)
 * @param sampling     temperature, top-p, penalties, seed
 * @param maxTokens    most tokens to generate; fewer when the slot's context fills first
 * @param stops        stop strings: generation ends before the first one, which is not returned
 * @param topLogprobs  -1: no log-probabilities; 0..20: the chosen token's log-probability and this many alternatives
 * @param inputEmbeddings early fusion for the prefill: the row that replaces the token embedding at an absolute
 *                     prompt position (an image's projected patch at a {@code <|patch|>} token, see
 *                     {@link org.llama4j.vision.MultimodalPrompt#visionEmbeddingAt}), null where the token
 *                     embedding stays; null for a text prompt
 */
public record GenerationJob(int[] promptTokens, SamplingParams sampling, int maxTokens, List<String> stops,
                            int topLogprobs, IntFunction<float[]> inputEmbeddings) {
    /** A text prompt: every position takes its token embedding. */
    public GenerationJob(int[] promptTokens, SamplingParams sampling, int maxTokens, List<String> stops,
            int topLogprobs) {
        this(promptTokens, sampling, maxTokens, stops, topLogprobs, null);
    }

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
