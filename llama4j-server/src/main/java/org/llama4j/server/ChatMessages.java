package org.llama4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ToolCall;
import org.llama4j.image.ImageInput;
import org.llama4j.image.ImageLoadException;

/**
 * Validation of the chat-specific request fields: messages, tools, tool_choice, response_format. Messages come out
 * as {@link ChatMessage}s in the Hugging Face shape the chat template expects: roles {@code system}, {@code user},
 * {@code assistant}, {@code tool} ({@code developer} arrives as system, {@code ipython} as tool), content as one
 * string (text parts concatenated) or, for a user message with images, the ordered text and image parts; tool-call
 * arguments as JSON objects.
 */
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
            List<ToolCall> calls = role.equals("assistant") ? toolCalls(m.get("tool_calls"), where) : List.of();
            boolean contentOptional = role.equals("assistant") && !calls.isEmpty();
            out.add(new ChatMessage(role, content(m.get("content"), where, role, contentOptional), calls));
        }
        return out;
    }

    /**
     * A string, or an array of content parts. Text-only arrays are concatenated into one string. A user message with
     * image parts ({@code {"type": "image_url", "image_url": {"url": "data:..."}}}, or Hugging Face's
     * {@code {"type": "image", "url": ...}}) keeps its parts in order: text parts as {@code {"type": "text"}}, image
     * parts in {@link ImageInput#toContentPart} form. Images must be {@code data:} URLs: remote URLs are never
     * fetched and local file paths are never accepted from a client.
     */
    private static JsonNode content(JsonNode content, String where, String role, boolean optional) {
        if (content == null || content.isNull()) {
            if (optional) {
                return TextNode.valueOf("");
            }
            throw ApiException.invalidRequest(where + ".content is required", where + ".content");
        }
        if (content.isTextual()) {
            return content;
        }
        if (!content.isArray()) {
            throw RequestFields.wrongType(where + ".content", "a string or an array of content parts");
        }
        StringBuilder text = new StringBuilder();
        ArrayNode parts = JSON.createArrayNode();
        boolean images = false;
        for (int i = 0; i < content.size(); i++) {
            JsonNode part = content.get(i);
            String type = part.path("type").asText("");
            String at = where + ".content[" + i + "]";
            if (type.equals("text") && part.path("text").isTextual()) {
                text.append(part.get("text").textValue());
                parts.addObject().put("type", "text").put("text", part.get("text").textValue());
            } else if (ChatMessage.isImagePart(part)) {
                if (!role.equals("user")) {
                    throw ApiException.invalidRequest(at + ": images are only accepted in user messages", at,
                            "invalid_image");
                }
                ImageInput image;
                try {
                    image = ImageInput.fromContentPart(part, false);
                } catch (ImageLoadException e) {
                    if (isRemoteUrl(part)) {
                        throw ApiException.invalidRequest(at + ": remote image URLs are not fetched by this server;"
                                + " send the image inline as a data: URL (data:image/png;base64,...)", at,
                                "remote_image_url");
                    }
                    throw ApiException.invalidRequest(at + ": " + e.getMessage(), at, "invalid_image");
                }
                parts.add(image.toContentPart());
                images = true;
            } else {
                throw ApiException.invalidRequest(where + ".content: only parts {\"type\": \"text\", \"text\": ...}"
                        + " and {\"type\": \"image_url\", \"image_url\": {\"url\": \"data:...\"}} are supported, got"
                        + " type '" + type + "'", where + ".content");
            }
        }
        return images ? parts : TextNode.valueOf(text.toString());
    }

    /** Whether an image part names a URL with a scheme other than data: and file: (http, https, ftp, ...). */
    private static boolean isRemoteUrl(JsonNode part) {
        JsonNode u = part.path("image_url");
        JsonNode source = u.isObject() ? u.path("url") : !u.isMissingNode() ? u : part.path("url");
        String s = source.asText("");
        int scheme = s.indexOf("://");
        return scheme > 0 && !s.regionMatches(true, 0, "file:", 0, 5);
    }

    /** The images of the conversation's messages, in prompt order. */
    static List<ImageInput> images(List<ChatMessage> messages) {
        List<ImageInput> out = new ArrayList<>();
        for (ChatMessage m : messages) {
            out.addAll(m.images(false));
        }
        return out;
    }

    private static List<ToolCall> toolCalls(JsonNode calls, String where) {
        if (calls == null || calls.isNull()) {
            return List.of();
        }
        if (!calls.isArray()) {
            throw RequestFields.wrongType(where + ".tool_calls", "an array");
        }
        List<ToolCall> out = new ArrayList<>();
        for (JsonNode call : calls) {
            JsonNode function = call.path("function");
            if (!function.path("name").isTextual()) {
                throw ApiException.invalidRequest(where + ".tool_calls[].function.name must be a string",
                        where + ".tool_calls");
            }
            JsonNode args = function.path("arguments");
            if (args.isTextual()) {
                try {
                    args = JSON.readTree(args.textValue());
                } catch (IOException e) {
                    throw ApiException.invalidRequest(where + ".tool_calls[].function.arguments is not valid JSON",
                            where + ".tool_calls");
                }
            }
            if (args == null || !args.isObject()) {
                args = JSON.createObjectNode();
            }
            out.add(new ToolCall(function.get("name").textValue(), args));
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
