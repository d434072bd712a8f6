package org.llama4j.safety.guard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * JSON forms of guard input and output, shared by the command line and the server.
 *
 * <p>A conversation is a JSON array of messages, or an object whose {@code "messages"} field is one. A message is
 * {@code {"role": "user"|"assistant"|"system"|"tool", "content": ...}}, where content is a string or a list of parts:
 * strings, {@code {"type": "text", "text": ...}}, or images ({@code {"type": "image", ...}} as in llama-stack,
 * {@code {"type": "image_url", ...}} as in OpenAI's API). Other fields of a message (tool calls, names) are ignored,
 * as llama-stack ignores them when it builds the prompt.
 */
public final class GuardJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private GuardJson() {
    }

    public static List<GuardMessage> messages(JsonNode root) {
        JsonNode array = root;
        if (root != null && root.isObject()) {
            array = root.get("messages");
            if (array == null) {
                throw new GuardInputException("expected a JSON array of messages or an object with \"messages\"");
            }
        }
        if (array == null || !array.isArray()) {
            throw new GuardInputException("\"messages\" must be a JSON array of {\"role\", \"content\"} objects, found "
                    + describe(array));
        }
        List<GuardMessage> messages = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            messages.add(message(array.get(i), "message " + i));
        }
        return messages;
    }

    private static GuardMessage message(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new GuardInputException(where + ": expected an object with \"role\" and \"content\", found "
                    + describe(node));
        }
        JsonNode role = node.get("role");
        if (role == null || !role.isTextual()) {
            throw new GuardInputException(where + ": \"role\" must be a string, found " + describe(role));
        }
        GuardMessage.Role parsedRole;
        try {
            parsedRole = GuardMessage.Role.fromWireName(role.asText());
        } catch (GuardInputException e) {
            throw new GuardInputException(where + ": " + e.getMessage());
        }
        return new GuardMessage(parsedRole, content(node.get("content"), where));
    }

    private static List<GuardMessage.Part> content(JsonNode content, String where) {
        if (content != null && content.isTextual()) {
            return List.of(new GuardMessage.Text(content.asText()));
        }
        if (content == null || !content.isArray()) {
            throw new GuardInputException(where + ": \"content\" must be a string or a list of parts, found "
                    + describe(content));
        }
        List<GuardMessage.Part> parts = new ArrayList<>(content.size());
        for (int j = 0; j < content.size(); j++) {
            parts.add(part(content.get(j), where + " content part " + j));
        }
        return parts;
    }

    private static GuardMessage.Part part(JsonNode part, String where) {
        if (part.isTextual()) {
            return new GuardMessage.Text(part.asText());
        }
        if (!part.isObject() || !part.path("type").isTextual()) {
            throw new GuardInputException(where + ": expected a string or an object with a \"type\", found "
                    + describe(part));
        }
        String type = part.get("type").asText();
        return switch (type) {
            case "text" -> {
                JsonNode text = part.get("text");
                if (text == null || !text.isTextual()) {
                    throw new GuardInputException(where + ": a text part needs a string \"text\", found "
                            + describe(text));
                }
                yield new GuardMessage.Text(text.asText());
            }
            case "image", "image_url" -> new GuardMessage.Image(imageSource(part));
            default -> throw new GuardInputException(where + ": unknown content type '" + type
                    + "': expected text, image or image_url");
        };
    }

    private static String imageSource(JsonNode part) {
        for (String field : List.of("url", "image_url", "image")) {
            JsonNode v = part.get(field);
            if (v != null && v.isTextual()) {
                return v.asText();
            }
            if (v != null && v.path("url").isTextual()) {
                return v.get("url").asText();
            }
        }
        return null;
    }

    private static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "nothing";
        }
        String text = node.toString();
        return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + (text.length() > 60 ? text.substring(0, 60) + "..." : text);
    }

    /**
     * {@code {"verdict", "categories", "block", "p_unsafe"}}, plus {@code "malformed_codes"} when the model
     * reported codes outside S1–S14. {@code p_unsafe} is null when no logits were seen.
     */
    public static ObjectNode verdict(GuardVerdict verdict) {
        ObjectNode out = JSON.createObjectNode();
        out.put("verdict", verdict.verdict().wireName());
        ArrayNode categories = out.putArray("categories");
        verdict.categories().forEach(categories::add);
        if (!verdict.malformedCodes().isEmpty()) {
            ArrayNode malformed = out.putArray("malformed_codes");
            verdict.malformedCodes().forEach(malformed::add);
        }
        out.put("block", verdict.block());
        if (verdict.pUnsafe().isPresent()) {
            out.put("p_unsafe", verdict.pUnsafe().getAsDouble());
        } else {
            out.putNull("p_unsafe");
        }
        return out;
    }
}
