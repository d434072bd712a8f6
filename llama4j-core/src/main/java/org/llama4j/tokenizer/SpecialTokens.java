package org.llama4j.tokenizer;

/**
 * Whether special-token text in the input ({@code <|eot|>}, ...) becomes the special token's id.
 * Message content from users must be encoded with {@link #NONE}, otherwise a user could inject turn
 * structure; prompt-template scaffolding is encoded with {@link #ALL}.
 */
public enum SpecialTokens {
    /** Special-token text is ordinary text (Meta's default {@code allowed_special=set()}). */
    NONE,
    /** Every exact occurrence of a special token's text becomes its id (tiktoken {@code allowed_special="all"}). */
    ALL
}
