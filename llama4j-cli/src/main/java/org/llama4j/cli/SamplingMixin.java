package org.llama4j.cli;

import java.util.ArrayList;
import java.util.List;
import org.llama4j.generate.GenerationOptions;
import org.llama4j.generate.SamplingParams;
import picocli.CommandLine.Option;

/** Generation options shared by {@code generate} and {@code chat}. */
final class SamplingMixin {
    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "256",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.6",
            description = "Sampling temperature; 0 means greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K most likely tokens (0: off).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.9",
            description = "Nucleus sampling threshold (1: off; default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0", description = "Drop tokens below P × the best one (0: off).")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "R", defaultValue = "1", description = "Repetition penalty (1: off).")
    float repeatPenalty;

    @Option(names = "--presence-penalty", paramLabel = "P", defaultValue = "0", description = "OpenAI presence penalty.")
    float presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "P", defaultValue = "0", description = "OpenAI frequency penalty.")
    float frequencyPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed, for reproducible sampling (default: random).")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when this text appears (repeatable).")
    List<String> stop = new ArrayList<>();

    GenerationOptions options() {
        SamplingParams p = new SamplingParams(temperature, topK, topP, minP, repeatPenalty, presencePenalty,
                frequencyPenalty, 0, seed != null ? seed : System.nanoTime());
        return new GenerationOptions(maxTokens, p, stop);
    }
}
