package org.llama4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;
import java.util.Objects;
import org.llama4j.image.ImageInput;

/**
 * One conversation message in the OpenAI/Hugging Face shape.
 *
 * @param role      system, user, assistant, tool or ipython
 * @param content   a JSON string, a JSON array of parts ({@code {"type":"text","text":...}},
 *                  {@code {"type":"image"}}), or for tool results any JSON value; JSON null when absent
 * @param toolCalls calls made by an assistant message (empty otherwise)
 */
public record ChatMessage(String role, JsonNode content, List<ToolCall> toolCalls) {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        content = content == null ? JSON.nullNode() : content;
        toolCalls = List.copyOf(toolCalls);
    }

    public static ChatMessage of(String role, String text) {
        return new ChatMessage(role, TextNode.valueOf(text), List.of());
    }

    public static ChatMessage system(String text) {
        return of("system", text);
    }

    public static ChatMessage user(String text) {
        return of("user", text);
    }

    public static ChatMessage assistant(String text) {
        return of("assistant", text);
    }

    public static ChatMessage tool(String result) {
        return of("tool", result);
    }

    /**
     * A user message showing {@code images} and then asking {@code text} (the order of Meta's examples and of the
     * Llama 4 model card).
     */
    public static ChatMessage userWithImages(String text, ImageInput... images) {
        ArrayNode parts = JSON.arrayNode();
        for (ImageInput image : images) {
            parts.add(image.toContentPart());
        }
        parts.addObject().put("type", "text").put("text", text);
        return new ChatMessage("user", parts, List.of());
    }

    /** Whether a content part is an image ({@code image} or {@code image_url}). */
    public static boolean isImagePart(JsonNode part) {
        String type = part.path("type").asText();
        return type.equals("image") || type.equals("image_url");
    }

    /**
     * The images of this message's content parts, in order.
     *
     * @param allowFiles whether parts may name local files (false for messages from remote clients)
     */
    public List<ImageInput> images(boolean allowFiles) {
        List<ImageInput> out = new java.util.ArrayList<>();
        if (content.isArray()) {
            for (JsonNode part : content) {
                if (isImagePart(part)) {
                    out.add(ImageInput.fromContentPart(part, allowFiles));
                }
            }
        }
        return out;
    }

    /**
     * This message with every image part reduced to {@code {"type": "image"}}, the form Hugging Face chat templates
     * render as an {@code <|image|>} placeholder (they skip {@code image_url} parts, and must not see the pixels).
     */
    public ChatMessage withImagePlaceholders() {
        if (!content.isArray()) {
            return this;
        }
        ArrayNode parts = JSON.arrayNode();
        for (JsonNode part : content) {
            parts.add(isImagePart(part) ? JSON.objectNode().put("type", "image") : part);
        }
        return new ChatMessage(role, parts, toolCalls);
    }

    public static ChatMessage assistantToolCalls(String text, List<ToolCall> calls) {
        return new ChatMessage("assistant", TextNode.valueOf(text), calls);
    }

    /** The Hugging Face message dictionary a chat template receives. */
    public ObjectNode toJson() {
        ObjectNode m = JSON.objectNode();
        m.put("role", role);
        m.set("content", content);
        if (!toolCalls.isEmpty()) {
            ArrayNode calls = m.putArray("tool_calls");
            for (ToolCall c : toolCalls) {
                ObjectNode call = calls.addObject();
                call.put("type", "function");
                ObjectNode fn = call.putObject("function");
                fn.put("name", c.name());
                fn.set("arguments", c.arguments());
            }
        }
        return m;
    }

    /** Parses one message dictionary ({@code tool_calls[].function.arguments} may be an object or a JSON string). */
    public static ChatMessage fromJson(JsonNode m) {
        if (!m.isObject() || !m.path("role").isTextual()) {
            throw new IllegalArgumentException("a chat message must be an object with a string \"role\": " + m);
        }
        List<ToolCall> calls = new java.util.ArrayList<>();
        for (JsonNode c : m.path("tool_calls")) {
            JsonNode fn = c.has("function") ? c.get("function") : c;
            JsonNode args = fn.path("arguments");
            if (args.isTextual()) {
                try {
                    args = new com.fasterxml.jackson.databind.ObjectMapper().readTree(args.textValue());
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalArgumentException("tool call arguments are not valid JSON: " + args.textValue(), e);
                }
            }
            calls.add(new ToolCall(fn.path("name").asText(), args.isMissingNode() ? JSON.objectNode() : args));
        }
        return new ChatMessage(m.get("role").textValue(), m.get("content"), calls);
    }
}
