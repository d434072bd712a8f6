package org.llama4j.safety.guard;

import java.util.Objects;

/**
 * The outcome of one guard check.
 *
 * @param verdict         the parsed, fail-closed verdict, with {@code pUnsafe} set
 * @param answer          the model's answer as parsed: special tokens removed, stopped at end of turn
 * @param prompt          the prompt the model saw
 * @param generatedTokens tokens generated, the stop token included when one was reached
 * @param stopped         whether the answer ended with a stop token (false: cut off by the token budget)
 */
public record GuardResult(GuardVerdict verdict, String answer, GuardPrompt prompt, int generatedTokens,
                          boolean stopped) {
    public GuardResult {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(answer, "answer");
        Objects.requireNonNull(prompt, "prompt");
    }

    /** Whether the checked content must be stopped. */
    public boolean block() {
        return verdict.block();
    }
}
