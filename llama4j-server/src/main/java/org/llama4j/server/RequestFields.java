package org.llama4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.llama4j.generate.SamplingParams;

/**
 * Reads and validates the request fields /v1/chat/completions and /v1/completions share. Every wrong type or
 * out-of-range value becomes a 400 naming the field, never an exception from deeper down.
 */
final class RequestFields {
    private final ObjectNode root;

    RequestFields(ObjectNode root) {
        this.root = root;
    }

    ObjectNode root() {
        return root;
    }

    boolean stream() {
        return bool("stream", false);
    }

    boolean includeUsage() {
        JsonNode options = root.get("stream_options");
        if (options == null || options.isNull()) {
            return false;
        }
        if (!options.isObject()) {
            throw wrongType("stream_options", "an object");
        }
        JsonNode include = options.get("include_usage");
        if (include == null || include.isNull()) {
            return false;
        }
        if (!include.isBoolean()) {
            throw wrongType("stream_options.include_usage", "a boolean");
        }
        return include.booleanValue();
    }

    void requireSingleChoice() {
        Integer n = integer("n");
        if (n != null && n != 1) {
            throw ApiException.invalidRequest("only n=1 is supported, got n=" + n, "n");
        }
    }

    /**
     * @param contextSize tokens one slot holds: a larger max_tokens can never be honoured
     * @return max_completion_tokens, else max_tokens, else what is left of the context after the prompt
     */
    int maxTokens(int promptTokens, int contextSize) {
        Integer max = integer("max_completion_tokens");
        String field = "max_completion_tokens";
        if (max == null) {
            max = integer("max_tokens");
            field = "max_tokens";
        }
        if (max == null) {
            return contextSize - promptTokens;
        }
        if (max < 1 || max > contextSize) {
            throw ApiException.invalidRequest(field + " must be between 1 and the context size " + contextSize
                    + ", got " + max, field);
        }
        return Math.min(max, contextSize - promptTokens);
    }

    SamplingParams sampling() {
        float temperature = number("temperature", 1f, 0f, 2f);
        float topP = number("top_p", 1f, 0f, 1f);
        if (topP == 0f) {
            // top_p 0 keeps only the most likely token: the same as greedy decoding.
            temperature = 0f;
            topP = 1f;
        }
        float presence = number("presence_penalty", 0f, -2f, 2f);
        float frequency = number("frequency_penalty", 0f, -2f, 2f);
        JsonNode seedNode = root.get("seed");
        long seed;
        if (seedNode == null || seedNode.isNull()) {
            seed = ThreadLocalRandom.current().nextLong();
        } else if (seedNode.isIntegralNumber() && seedNode.canConvertToLong()) {
            seed = seedNode.longValue();
        } else {
            throw wrongType("seed", "an integer");
        }
        return new SamplingParams(temperature, 0, topP, 0f, 1f, presence, frequency, 0, seed);
    }

    List<String> stops() {
        JsonNode stop = root.get("stop");
        List<String> out = new ArrayList<>();
        if (stop == null || stop.isNull()) {
            return out;
        }
        if (stop.isTextual()) {
            out.add(stop.textValue());
        } else if (stop.isArray()) {
            if (stop.size() > 4) {
                throw ApiException.invalidRequest("at most 4 stop sequences are allowed", "stop");
            }
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw wrongType("stop", "a string or an array of strings");
                }
                out.add(s.textValue());
            }
        } else {
            throw wrongType("stop", "a string or an array of strings");
        }
        return out;
    }

    /** Chat style: {@code logprobs: true} plus {@code top_logprobs: 0..20}. Returns -1 for none. */
    int chatTopLogprobs() {
        boolean logprobs = bool("logprobs", false);
        Integer top = integer("top_logprobs");
        if (top != null && (top < 0 || top > Logprobs.MAX_TOP)) {
            throw ApiException.invalidRequest("top_logprobs must be between 0 and " + Logprobs.MAX_TOP, "top_logprobs");
        }
        if (top != null && top > 0 && !logprobs) {
            throw ApiException.invalidRequest("top_logprobs requires logprobs: true", "top_logprobs");
        }
        return logprobs ? (top == null ? 0 : top) : -1;
    }

    /** Legacy completions style: {@code logprobs: 0..5} (an integer). Returns -1 for none. */
    int completionTopLogprobs() {
        Integer n = integer("logprobs");
        if (n == null) {
            return -1;
        }
        if (n < 0 || n > 5) {
            throw ApiException.invalidRequest("logprobs must be between 0 and 5", "logprobs");
        }
        return n;
    }

    boolean bool(String field, boolean fallback) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw wrongType(field, "a boolean");
        }
        return v.booleanValue();
    }

    Integer integer(String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw wrongType(field, "an integer");
        }
        return v.intValue();
    }

    float number(String field, float fallback, float min, float max) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw wrongType(field, "a number");
        }
        double d = v.doubleValue();
        if (!(d >= min && d <= max)) {
            throw ApiException.invalidRequest(field + " must be between " + min + " and " + max + ", got " + d, field);
        }
        return (float) d;
    }

    static ApiException wrongType(String field, String expected) {
        return ApiException.invalidRequest("'" + field + "' must be " + expected, field, "invalid_type");
    }
}
