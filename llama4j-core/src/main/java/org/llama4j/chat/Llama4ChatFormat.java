package org.llama4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.llama4j.chat.jinja.Values;

/**
 * The built-in Llama 4 prompt format, a port of Meta's {@code models/llama4/chat_format.py}
 * ({@code ChatFormat.encode_dialog_prompt}), for models that ship no chat template (a bare
 * {@code tokenizer.model}). It produces {@link PromptPiece}s exactly as Meta encodes them: special tokens by
 * name, and every text item (role name, the {@code "\n\n"} after a header, each content part, each tool call)
 * as its own plain-text piece. Message text is never parsed for special tokens, nothing is trimmed, tool results
 * and assistant tool calls end with {@code <|eom|>}, and the assistant header is always appended.
 */
public final class Llama4ChatFormat {
    /** How assistant tool calls are printed ({@code ToolUtils.encode_tool_call}). */
    public enum ToolPromptFormat { JSON, PYTHON_LIST }

    public static final String BEGIN_OF_TEXT = "<|begin_of_text|>";
    public static final String HEADER_START = "<|header_start|>";
    public static final String HEADER_END = "<|header_end|>";
    public static final String EOT = "<|eot|>";
    public static final String EOM = "<|eom|>";
    public static final String IMAGE_START = "<|image_start|>";
    public static final String IMAGE_END = "<|image_end|>";
    public static final String IMAGE = "<|image|>";
    public static final String PATCH = "<|patch|>";
    public static final String TILE_X_SEPARATOR = "<|tile_x_separator|>";
    public static final String TILE_Y_SEPARATOR = "<|tile_y_separator|>";

    private final ToolPromptFormat toolFormat;
    private final Function<JsonNode, List<PromptPiece>> imageEncoder;

    /**
     * @param imageEncoder turns an image content part into its token layout (see {@link #imageLayout}); images
     *                     need the pixels to choose the tiling, which this text-level format does not have
     */
    public Llama4ChatFormat(ToolPromptFormat toolFormat, Function<JsonNode, List<PromptPiece>> imageEncoder) {
        this.toolFormat = toolFormat;
        this.imageEncoder = imageEncoder;
    }

    /** JSON tool calls; image parts are rejected. */
    public Llama4ChatFormat() {
        this(ToolPromptFormat.JSON, part -> {
            throw new IllegalArgumentException("image content needs an image encoder (the tiling depends on the pixels)");
        });
    }

    /** {@code encode_dialog_prompt}: BOS, every message, then the assistant header for the model to complete. */
    public List<PromptPiece> encodeDialogPrompt(List<ChatMessage> messages) {
        List<PromptPiece> out = new ArrayList<>();
        out.add(new PromptPiece.SpecialToken(BEGIN_OF_TEXT));
        for (ChatMessage m : messages) {
            out.addAll(encodeMessage(m));
        }
        header("assistant", out);
        return out;
    }

    private static void text(String s, List<PromptPiece> out) {
        if (!s.isEmpty()) { // Meta's encode("") yields no ids
            out.add(new PromptPiece.PlainText(s));
        }
    }

    private static void header(String role, List<PromptPiece> out) {
        out.add(new PromptPiece.SpecialToken(HEADER_START));
        text(role.equals("tool") ? "ipython" : role, out);
        out.add(new PromptPiece.SpecialToken(HEADER_END));
        text("\n\n", out);
    }

    /** {@code encode_message}: header, content items, tool calls, then {@code <|eom|>} or {@code <|eot|>}. */
    public List<PromptPiece> encodeMessage(ChatMessage m) {
        List<PromptPiece> out = new ArrayList<>();
        boolean isTool = m.role().equals("tool") || m.role().equals("ipython");
        header(isTool ? "ipython" : m.role(), out);
        JsonNode content = m.content();
        if (content.isArray()) {
            for (JsonNode part : content) {
                switch (part.isTextual() ? "text" : part.path("type").asText()) {
                    case "text" -> text(part.isTextual() ? part.textValue() : part.path("text").asText(), out);
                    case "image", "image_url" -> out.addAll(imageEncoder.apply(part));
                    default -> throw new IllegalArgumentException("unsupported content part type: " + part);
                }
            }
        } else if (content.isTextual()) {
            text(content.textValue(), out);
        } else if (!content.isNull()) {
            text(content.toString(), out);
        }
        if (m.role().equals("assistant")) {
            for (ToolCall call : m.toolCalls()) {
                text(encodeToolCall(call, toolFormat), out);
            }
        }
        boolean eom = isTool || m.role().equals("assistant") && !m.toolCalls().isEmpty();
        out.add(new PromptPiece.SpecialToken(eom ? EOM : EOT));
        return out;
    }

    /** {@code ToolUtils.encode_tool_call}. */
    public static String encodeToolCall(ToolCall call, ToolPromptFormat format) {
        JsonNode args = call.arguments();
        switch (call.name()) {
            case "brave_search", "wolfram_alpha", "photogen" -> {
                return call.name() + ".call(query=\"" + args.path("query").asText() + "\")";
            }
            case "code_interpreter" -> {
                return args.path("code").asText();
            }
            default -> { }
        }
        if (format == ToolPromptFormat.JSON) {
            var obj = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            obj.put("type", "function");
            obj.put("name", call.name());
            obj.set("parameters", args);
            return Values.pythonJsonDumps(obj, true);
        }
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : args.properties()) {
            parts.add(e.getKey() + "=" + pythonValue(e.getValue()));
        }
        return "[" + call.name() + "(" + String.join(", ", parts) + ")]";
    }

    private static String pythonValue(JsonNode v) {
        if (v.isTextual()) {
            return "\"" + v.textValue() + "\"";
        }
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(x -> items.add(pythonValue(x)));
            return "[" + String.join(", ", items) + "]";
        }
        if (v.isObject()) {
            List<String> items = new ArrayList<>();
            v.properties().forEach(e -> items.add(e.getKey() + "=" + pythonValue(e.getValue())));
            return "{" + String.join(", ", items) + "}";
        }
        if (v.isBoolean()) {
            return v.booleanValue() ? "True" : "False";
        }
        if (v.isNull()) {
            return "None";
        }
        return v.isFloatingPointNumber() ? Values.pythonJsonDumps(v, true) : v.asText();
    }

    /**
     * {@code _encode_image}: the token layout of one image cut into {@code ratioH × ratioW} tiles plus a global
     * thumbnail ({@code imageChunks == 1}: the thumbnail alone), each chunk {@code patchesPerChunk} patches.
     */
    public static List<PromptPiece> imageLayout(int ratioH, int ratioW, int imageChunks, int patchesPerChunk) {
        List<PromptPiece> out = new ArrayList<>();
        PromptPiece.SpecialToken patch = new PromptPiece.SpecialToken(PATCH);
        out.add(new PromptPiece.SpecialToken(IMAGE_START));
        if (imageChunks > 1) {
            for (int h = 0; h < ratioH; h++) {
                for (int w = 0; w < ratioW; w++) {
                    for (int p = 0; p < patchesPerChunk; p++) {
                        out.add(patch);
                    }
                    if (w < ratioW - 1) {
                        out.add(new PromptPiece.SpecialToken(TILE_X_SEPARATOR));
                    }
                }
                out.add(new PromptPiece.SpecialToken(TILE_Y_SEPARATOR));
            }
        }
        out.add(new PromptPiece.SpecialToken(IMAGE));
        for (int p = 0; p < patchesPerChunk; p++) {
            out.add(patch);
        }
        out.add(new PromptPiece.SpecialToken(IMAGE_END));
        return out;
    }
}
