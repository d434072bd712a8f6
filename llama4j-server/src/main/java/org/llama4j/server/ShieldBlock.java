package org.llama4j.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Objects;

/**
 * Why a shield stopped a request. Answered to the client as {@code finish_reason: "content_filter"}, the
 * {@link #refusal()} text as the message's {@code refusal}, and {@link #toJson()} as the choice's
 * {@code content_filter_results}.
 *
 * @param shield     {@code llama_guard} or {@code prompt_guard}
 * @param stage      {@code input} (checked before generation) or {@code output} (after)
 * @param verdict    {@code unsafe} (Llama Guard named categories), {@code malicious} (Prompt Guard), or
 *                   {@code error} (the check failed, timed out or gave an unreadable answer: fail closed)
 * @param categories Llama Guard's hazard codes as reported (e.g. {@code S1}); Prompt Guard's label; empty for errors
 * @param score      Llama Guard's calibrated P(unsafe) or Prompt Guard's P(malicious); null when unknown
 */
record ShieldBlock(String shield, String stage, String verdict, List<String> categories, Double score) {
    static final String LLAMA_GUARD = "llama_guard";
    static final String PROMPT_GUARD = "prompt_guard";
    static final String INPUT = "input";
    static final String OUTPUT = "output";
    static final String ERROR = "error";

    ShieldBlock {
        Objects.requireNonNull(shield);
        Objects.requireNonNull(stage);
        Objects.requireNonNull(verdict);
        categories = List.copyOf(categories);
    }

    static ShieldBlock failed(String shield, String stage) {
        return new ShieldBlock(shield, stage, ERROR, List.of(), null);
    }

    /** The text a client sees as the assistant's refusal. */
    String refusal() {
        String what = stage.equals(INPUT) ? "The request" : "The response";
        return switch (verdict) {
            case ERROR -> what + " was blocked: the " + label() + " safety check could not be completed.";
            case "malicious" -> what + " was blocked by Prompt Guard: a message looks like a prompt injection or"
                    + " jailbreak attempt.";
            default -> what + " was blocked by Llama Guard: " + String.join(", ", categories) + ".";
        };
    }

    private String label() {
        return shield.equals(LLAMA_GUARD) ? "Llama Guard" : "Prompt Guard";
    }

    /** The {@code content_filter_results} object of a blocked choice. */
    ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("flagged", true);
        o.put("shield", shield);
        o.put("stage", stage);
        o.put("verdict", verdict);
        categories.forEach(o.putArray("categories")::add);
        if (shield.equals(LLAMA_GUARD)) {
            ModerationCategories.openAiNames(categories).forEach(o.putArray("openai_categories")::add);
        }
        if (score != null) {
            o.put("score", score);
        }
        return o;
    }
}
