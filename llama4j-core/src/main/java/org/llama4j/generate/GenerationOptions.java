package org.llama4j.generate;

import java.util.List;

/**
 * What one generation may do: how many tokens, how they are sampled, and where it stops besides the model's own
 * end-of-turn tokens.
 *
 * @param maxTokens   most tokens to generate (the context length bounds it too)
 * @param sampling    how each token is chosen
 * @param stopStrings text that ends the generation; it is not part of the result
 */
public record GenerationOptions(int maxTokens, SamplingParams sampling, List<String> stopStrings) {

    public GenerationOptions {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
        }
        stopStrings = List.copyOf(stopStrings);
    }

    public static GenerationOptions greedy(int maxTokens) {
        return new GenerationOptions(maxTokens, SamplingParams.greedy(), List.of());
    }

    public GenerationOptions withMaxTokens(int n) {
        return new GenerationOptions(n, sampling, stopStrings);
    }

    public GenerationOptions withSampling(SamplingParams s) {
        return new GenerationOptions(maxTokens, s, stopStrings);
    }

    public GenerationOptions withStopStrings(List<String> stops) {
        return new GenerationOptions(maxTokens, sampling, stops);
    }
}
