package org.llama4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;

/** Turns prompt pieces into token ids: special tokens by their id, every text piece encoded as plain text. */
public final class PromptEncoder {
    private PromptEncoder() {
    }

    /** @throws IllegalArgumentException when a special token is not in the tokenizer's vocabulary */
    public static int[] encode(Tokenizer tokenizer, List<PromptPiece> pieces) {
        int[][] parts = new int[pieces.size()][];
        int total = 0;
        for (int i = 0; i < pieces.size(); i++) {
            parts[i] = switch (pieces.get(i)) {
                case PromptPiece.SpecialToken s -> new int[] {tokenizer.specialTokenId(s.text()).orElseThrow(
                        () -> new IllegalArgumentException("the tokenizer has no special token " + s.text()))};
                case PromptPiece.PlainText t -> tokenizer.encode(t.text(), SpecialTokens.NONE);
            };
            total += parts[i].length;
        }
        int[] ids = new int[total];
        int at = 0;
        for (int[] part : parts) {
            System.arraycopy(part, 0, ids, at, part.length);
            at += part.length;
        }
        return ids;
    }

    /**
     * The ids of a rendered template: special tokens only where the template wrote them, message content as
     * plain text (see {@link RenderedPrompt#pieces}).
     */
    public static int[] encode(Tokenizer tokenizer, RenderedPrompt prompt) {
        return encode(tokenizer, prompt.pieces(tokenizer.specialTokens().keySet()));
    }

    /**
     * The ids of a conversation prompt ending with the assistant header: through the model's chat template when it
     * has one, else Meta's built-in Llama 4 format. Message content is always plain text; every image content part
     * becomes one {@code <|image|>} placeholder for the vision layer to lay out. Library and server both build their
     * chat prompts here.
     *
     * @param template the model's template, or null for Meta's built-in format
     * @param tools    OpenAI-style tool definitions, or null
     * @throws IllegalArgumentException when tools are given but the model has no template (Meta's format takes
     *                                  tools only as system-prompt text)
     */
    public static int[] encodeConversation(Tokenizer tokenizer, ChatTemplate template, List<ChatMessage> messages,
            JsonNode tools, Map<String, Object> templateKwargs) {
        if (template != null) {
            return encode(tokenizer, template.render(messages, tools, true, templateKwargs));
        }
        if (tools != null && !tools.isNull()) {
            throw new IllegalArgumentException("this model has no chat template, and Meta's built-in format"
                    + " takes tools in the system prompt: describe them in a system message instead");
        }
        Llama4ChatFormat format = new Llama4ChatFormat(Llama4ChatFormat.ToolPromptFormat.JSON,
                part -> List.of(new PromptPiece.SpecialToken(Llama4ChatFormat.IMAGE)));
        return encode(tokenizer, format.encodeDialogPrompt(messages));
    }

    /** A plain completion prompt: begin-of-text, then {@code text} as plain text (never parsed for specials). */
    public static int[] encodeCompletion(Tokenizer tokenizer, String text) {
        int[] body = tokenizer.encode(text, SpecialTokens.NONE);
        int[] ids = new int[body.length + 1];
        ids[0] = tokenizer.bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }
}
