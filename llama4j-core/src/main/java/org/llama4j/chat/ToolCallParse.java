package org.llama4j.chat;

import java.util.List;

/** The outcome of {@link ToolCallParser#parse}: tool calls, or the model's output as plain text. */
public sealed interface ToolCallParse {
    /**
     * The output requested tool calls.
     *
     * @param calls   at least one call, in order
     * @param content text the model wrote before the calls (often empty)
     */
    record Calls(List<ToolCall> calls, String content) implements ToolCallParse {
        public Calls {
            if (calls.isEmpty()) {
                throw new IllegalArgumentException("no calls");
            }
            calls = List.copyOf(calls);
        }
    }

    /** No (well-formed) tool call: the output is an ordinary answer. */
    record Text(String text) implements ToolCallParse { }
}
