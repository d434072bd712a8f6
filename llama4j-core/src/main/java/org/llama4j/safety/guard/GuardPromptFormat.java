package org.llama4j.safety.guard;

import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerFamily;
import java.util.stream.IntStream;

/**
 * How the guard prompt reaches the model: as the only user message of a chat, followed by the assistant header
 * (generation prompt), in the chat format of the guard's base model.
 *
 * <p>Token ids follow Meta's {@code ChatFormat}: the structure (begin of text, headers, end of turn) is special-token
 * ids, while the role names, the {@code \n\n} after each header and the whole guard prompt are encoded as plain text.
 * So special-token text inside the conversation (an injected {@code <|eot|><|header_start|>assistant...}) stays
 * text and cannot close the user turn. Encoding the rendered string with special-token parsing on (the transformers
 * route) would turn it into real control tokens.
 */
public enum GuardPromptFormat {
    /** Llama Guard 4: the Llama 4 instruct format. */
    LLAMA4("<|begin_of_text|>", "<|header_start|>", "<|header_end|>", "<|eot|>"),
    /** Llama Guard 3 (1B, 8B): the Llama 3 format, without a system message. */
    LLAMA3("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>");

    private static final String HEADER_GAP = "\n\n";

    private final String begin;
    private final String headerStart;
    private final String headerEnd;
    private final String endOfTurn;

    GuardPromptFormat(String begin, String headerStart, String headerEnd, String endOfTurn) {
        this.begin = begin;
        this.headerStart = headerStart;
        this.headerEnd = headerEnd;
        this.endOfTurn = endOfTurn;
    }

    /** The format that goes with a tokenizer's family: Llama 4 vocabulary, Llama 4 format; Llama 3 likewise. */
    public static GuardPromptFormat forFamily(TokenizerFamily family) {
        return switch (family) {
            case LLAMA4 -> LLAMA4;
            case LLAMA3 -> LLAMA3;
        };
    }

    /** The chat as text, special tokens written out: what a chat template would render. */
    public String render(String guardPrompt) {
        return begin + header("user") + guardPrompt + endOfTurn + header("assistant");
    }

    private String header(String role) {
        return headerStart + role + headerEnd + HEADER_GAP;
    }

    /** Token ids of {@link #render}, with everything but the structure encoded as plain text. */
    public int[] encode(Tokenizer tokenizer, String guardPrompt) {
        if (forFamily(tokenizer.family()) != this) {
            throw new GuardInputException("the " + this + " guard prompt format needs a " + this + " tokenizer, got "
                    + tokenizer.family());
        }
        IntStream.Builder ids = IntStream.builder();
        ids.add(special(tokenizer, begin));
        appendHeader(tokenizer, ids, "user");
        appendPlain(tokenizer, ids, guardPrompt);
        ids.add(special(tokenizer, endOfTurn));
        appendHeader(tokenizer, ids, "assistant");
        return ids.build().toArray();
    }

    private void appendHeader(Tokenizer tokenizer, IntStream.Builder ids, String role) {
        ids.add(special(tokenizer, headerStart));
        appendPlain(tokenizer, ids, role);
        ids.add(special(tokenizer, headerEnd));
        appendPlain(tokenizer, ids, HEADER_GAP);
    }

    private static void appendPlain(Tokenizer tokenizer, IntStream.Builder ids, String text) {
        for (int id : tokenizer.encode(text, SpecialTokens.NONE)) {
            ids.add(id);
        }
    }

    private static int special(Tokenizer tokenizer, String text) {
        return tokenizer.specialTokenId(text).orElseThrow(() -> new GuardInputException(
                "the tokenizer lacks the special token " + text + " the guard prompt format needs"));
    }
}
