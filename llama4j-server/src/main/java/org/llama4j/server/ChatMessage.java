package org.llama4j.server;

import java.util.List;

/**
 * A validated message of a chat request.
 *
 * @param role      system, user, assistant or tool ("developer" arrives as system)
 * @param content   the text (never null; empty for an assistant message that only calls tools)
 * @param toolCalls the calls of an assistant message, in order (empty otherwise)
 */
record ChatMessage(String role, String content, List<ToolCall> toolCalls) {
    /** A call to a function: its name and its arguments as JSON text, as the OpenAI API carries them. */
    record ToolCall(String id, String name, String argumentsJson) {
    }
}
