package org.llama4j.generate;

/**
 * The outcome of one generation.
 *
 * @param text          generated text, without the stop token or stop string
 * @param tokens        generated token ids, including the stop token when one ended the generation
 * @param finishReason  why it ended
 * @param stopToken     the token that ended it, or -1
 * @param stopString    the stop string that ended it, or null
 * @param promptTokens  tokens of the prompt that were processed for this generation
 * @param prefillNanos  time spent processing the prompt
 * @param decodeNanos   time spent generating after the first token
 */
public record GenerationResult(
        String text,
        int[] tokens,
        FinishReason finishReason,
        int stopToken,
        String stopString,
        int promptTokens,
        long prefillNanos,
        long decodeNanos) {

    public int completionTokens() {
        return tokens.length;
    }

    /** Prompt tokens per second, or 0 when nothing was measured. */
    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }

    /** Generated tokens per second after the first one (which the prefill produced), or 0. */
    public double decodeTokensPerSecond() {
        return decodeNanos == 0 || tokens.length < 2 ? 0 : (tokens.length - 1) * 1e9 / decodeNanos;
    }
}
