package org.llama4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.llama4j.generate.GenerationOptions;
import org.llama4j.generate.SamplingParams;

/**
 * Options of one chat turn.
 *
 * @param generation     token budget, sampling and stop strings
 * @param tools          OpenAI-style tool definitions ({@code [{"type": "function", "function": {...}}]}), or null
 * @param templateKwargs extra chat-template variables, e.g. {@code tools_in_user_message}
 */
public record ChatOptions(GenerationOptions generation, JsonNode tools, Map<String, Object> templateKwargs) {

    public ChatOptions {
        templateKwargs = Map.copyOf(templateKwargs);
    }

    /** Meta's recommended chat sampling (temperature 0.6, top-p 0.9), up to 1024 new tokens. */
    public static ChatOptions defaults() {
        return new ChatOptions(new GenerationOptions(1024, SamplingParams.defaults(System.nanoTime()), List.of()),
                null, Map.of());
    }

    /** Deterministic: greedy decoding, up to {@code maxTokens}. */
    public static ChatOptions greedy(int maxTokens) {
        return new ChatOptions(GenerationOptions.greedy(maxTokens), null, Map.of());
    }

    public ChatOptions withMaxTokens(int n) {
        return new ChatOptions(generation.withMaxTokens(n), tools, templateKwargs);
    }

    public ChatOptions withSampling(SamplingParams s) {
        return new ChatOptions(generation.withSampling(s), tools, templateKwargs);
    }

    public ChatOptions withStop(List<String> stop) {
        return new ChatOptions(generation.withStopStrings(stop), tools, templateKwargs);
    }

    public ChatOptions withTools(JsonNode toolDefinitions) {
        return new ChatOptions(generation, toolDefinitions, templateKwargs);
    }

    public ChatOptions withTemplateKwargs(Map<String, Object> kwargs) {
        return new ChatOptions(generation, tools, kwargs);
    }
}
