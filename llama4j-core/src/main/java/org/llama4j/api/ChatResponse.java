package org.llama4j.api;

import java.util.List;
import org.llama4j.chat.ToolCall;
import org.llama4j.generate.GenerationResult;

/**
 * The assistant's answer to one chat turn.
 *
 * @param text         the answer text (without tool-call syntax when the model called tools)
 * @param toolCalls    tools the model asked to call, in order (empty when it answered in text)
 * @param finishReason why generation ended
 * @param generation   the raw generation: tokens, timings, prompt size
 */
public record ChatResponse(String text, List<ToolCall> toolCalls, Finish finishReason, GenerationResult generation) {

    /** Why an answer ended, in the vocabulary of OpenAI-style APIs. */
    public enum Finish {
        STOP, LENGTH, TOOL_CALLS, CANCELLED;

        /** The lower-case name OpenAI uses ({@code stop}, {@code length}, {@code tool_calls}). */
        public String openAiName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public ChatResponse {
        toolCalls = List.copyOf(toolCalls);
    }

    public int promptTokens() {
        return generation.promptTokens();
    }

    public int completionTokens() {
        return generation.completionTokens();
    }
}
