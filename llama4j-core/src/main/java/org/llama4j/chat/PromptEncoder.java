package org.llama4j.chat;

import java.util.List;
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
}
