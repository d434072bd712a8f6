package org.llama4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Validation of the chat-specific request fields: messages, tools, tool_choice, response_format. */
final class ChatMessages {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatMessages() {
    }

    static List<ChatMessage> parse(JsonNode messages) {
        if (messages == null || messages.isNull()) {
            throw ApiException.invalidRequest("'messages' is required", "messages");
        }
        if (!messages.isArray()) {
            throw RequestFields.wrongType("messages", "an array");
        }
        if (messages.isEmpty()) {
            throw ApiException.invalidRequest("'messages' must not be empty", "messages");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw RequestFields.wrongType(where, "an object");
            }
            JsonNode roleNode = m.get("role");
            if (roleNode == null || !roleNode.isTextual()) {
                throw ApiException.invalidRequest(where + ".role must be a string", where + ".role");
            }
            String role = switch (roleNode.textValue()) {
                case "system", "developer" -> "system";
                case "user" -> "user";
                case "assistant" -> "assistant";
                case "tool", "ipython" -> "tool";
                default -> throw ApiException.invalidRequest("unknown role '" + roleNode.textValue() + "' in "
                        + where + "; expected system, developer, user, assistant or tool", where + ".role");
            };
            List<ChatMessage.ToolCall> calls = role.equals("assistant") ? toolCalls(m.get("tool_calls"), where)
                    : List.of();
            boolean contentOptional = role.equals("assistant") && !calls.isEmpty();
            out.add(new ChatMessage(role, content(m.get("content"), where, contentOptional), calls));
        }
        return out;
    }

    /** A string, or an array of text parts (concatenated). Images are not supported by the text server. */
    private static String content(JsonNode content, String where, boolean optional) {
        if (content == null || content.isNull()) {
            if (optional) {
                return "";
            }
            throw ApiException.invalidRequest(where + ".content is required", where + ".content");
        }
        if (content.isTextual()) {
            return content.textValue();
        }
        if (!content.isArray()) {
            throw RequestFields.wrongType(where + ".content", "a string or an array of content parts");
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
            String type = part.path("type").asText("");
            if (!type.equals("text") || !part.path("text").isTextual()) {
                throw ApiException.invalidRequest(where + ".content: only parts {\"type\": \"text\", \"text\": ...}"
                        + " are supported, got type '" + type + "'", where + ".content");
            }
            text.append(part.get("text").textValue());
        }
        return text.toString();
    }

    private static List<ChatMessage.ToolCall> toolCalls(JsonNode calls, String where) {
        if (calls == null || calls.isNull()) {
            return List.of();
        }
        if (!calls.isArray()) {
            throw RequestFields.wrongType(where + ".tool_calls", "an array");
        }
        List<ChatMessage.ToolCall> out = new ArrayList<>();
        for (JsonNode call : calls) {
            JsonNode function = call.path("function");
            if (!function.path("name").isTextual()) {
                throw ApiException.invalidRequest(where + ".tool_calls[].function.name must be a string",
                        where + ".tool_calls");
            }
            JsonNode args = function.path("arguments");
            String argsJson;
            if (args.isTextual()) {
                try {
                    argsJson = JSON.readTree(args.textValue()).toString();
                } catch (IOException e) {
                    throw ApiException.invalidRequest(where + ".tool_calls[].function.arguments is not valid JSON",
                            where + ".tool_calls");
                }
            } else if (args.isObject()) {
                argsJson = args.toString();
            } else {
                argsJson = "{}";
            }
            out.add(new ChatMessage.ToolCall(call.path("id").asText(""), function.get("name").textValue(), argsJson));
        }
        return out;
    }

    /** The tool definitions, checked for the OpenAI shape; null when the request has none. */
    static JsonNode tools(ObjectNode root) {
        JsonNode tools = root.get("tools");
        if (tools == null || tools.isNull()) {
            return null;
        }
        if (!tools.isArray()) {
            throw RequestFields.wrongType("tools", "an array");
        }
        if (tools.isEmpty()) {
            return null;
        }
        for (JsonNode tool : tools) {
            if (!tool.path("type").asText("").equals("function") || !tool.path("function").path("name").isTextual()) {
                throw ApiException.invalidRequest("each tool must be {\"type\": \"function\", \"function\":"
                        + " {\"name\": ..., \"parameters\": ...}}", "tools");
            }
        }
        return tools;
    }

    /** "none", "auto", "required" or the name of the one function to call. */
    static String toolChoice(ObjectNode root, JsonNode tools) {
        JsonNode choice = root.get("tool_choice");
        if (choice == null || choice.isNull()) {
            return tools == null ? "none" : "auto";
        }
        if (choice.isTextual()) {
            String c = choice.textValue();
            if (!c.equals("none") && !c.equals("auto") && !c.equals("required")) {
                throw ApiException.invalidRequest("tool_choice must be none, auto, required or a function", "tool_choice");
            }
            if (!c.equals("none") && tools == null) {
                throw ApiException.invalidRequest("tool_choice '" + c + "' needs tools", "tool_choice");
            }
            return c;
        }
        JsonNode name = choice.path("function").path("name");
        if (!choice.isObject() || !name.isTextual()) {
            throw RequestFields.wrongType("tool_choice", "a string or {\"type\": \"function\", \"function\": {\"name\": ...}}");
        }
        if (tools == null) {
            throw ApiException.invalidRequest("tool_choice names a function but there are no tools", "tool_choice");
        }
        return name.textValue();
    }

    /** Whether {@code response_format} asks for a JSON object. */
    static boolean jsonMode(ObjectNode root) {
        JsonNode format = root.get("response_format");
        if (format == null || format.isNull()) {
            return false;
        }
        if (!format.isObject() || !format.path("type").isTextual()) {
            throw RequestFields.wrongType("response_format", "an object with a 'type'");
        }
        return switch (format.get("type").textValue()) {
            case "text" -> false;
            case "json_object" -> true;
            default -> throw ApiException.invalidRequest("response_format type '" + format.get("type").textValue()
                    + "' is not supported (text, json_object)", "response_format");
        };
    }
}
