package org.llama4j.server;

import java.util.List;

/** What the scheduler reports to the request that owns a sequence, in order: tokens, then one end event. */
public sealed interface GenerationEvent {

    /**
     * One generated token. {@code text} is what the client may see now (possibly empty: part of a UTF-8 character
     * or of a possible stop string is held back until it is complete).
     */
    record Token(int id, String text, TokenLogprob logprob) implements GenerationEvent {
    }

    /** The end of a successful generation. {@code finishReason} is "stop" or "length". */
    record Finished(String finishReason, int promptTokens, int completionTokens) implements GenerationEvent {
    }

    /** The generation failed inside the engine; the message is safe to show to the client. */
    record Failed(String message) implements GenerationEvent {
    }

    /** Log-probability of a token and of the most likely alternatives at that step. */
    record TokenLogprob(String token, byte[] bytes, float logprob, List<TokenLogprob> top) {
    }
}
