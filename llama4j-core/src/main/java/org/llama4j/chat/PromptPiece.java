package org.llama4j.chat;

/**
 * What a tokenizer encodes, in order: a special token (by its text, e.g. {@code <|eot|>}) or a stretch of text
 * to encode as ordinary text, each {@link PlainText} on its own (BPE does not merge across pieces).
 */
public sealed interface PromptPiece {
    record SpecialToken(String text) implements PromptPiece { }

    record PlainText(String text) implements PromptPiece {
        public PlainText {
            if (text.isEmpty()) {
                throw new IllegalArgumentException("empty text piece");
            }
        }
    }
}
