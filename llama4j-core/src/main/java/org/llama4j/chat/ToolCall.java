package org.llama4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/** One function call requested by the model: the function name and its arguments as a JSON object. */
public record ToolCall(String name, JsonNode arguments) {
    public ToolCall {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
    }
}
