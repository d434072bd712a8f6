package org.llama4j.model.synthetic;

import java.util.ArrayList;
import java.util.List;

/**
 * The 2048 Llama 4 special tokens in the order Meta's {@code models/llama4/tokenizer.py} assigns their ids
 * (200000.. in the full vocabulary; right after the BPE tokens in a truncated one). Built from the same groups
 * tokenizer.py concatenates, so no token list has to be shipped.
 */
public final class Llama4SpecialTokens {
    /** Number of special tokens of Llama 4. */
    public static final int COUNT = 2048;
    /** Offsets within the special tokens (add the number of BPE tokens to get ids). */
    public static final int BEGIN_OF_TEXT = 0;
    public static final int END_OF_TEXT = 1;
    public static final int HEADER_START = 5;
    public static final int HEADER_END = 6;
    public static final int EOM = 7;
    public static final int EOT = 8;
    public static final int PYTHON_START = 16;
    public static final int PYTHON_END = 17;
    public static final int FINETUNE_RIGHT_PAD = 18;
    public static final int IMAGE = 90;
    public static final int PATCH = 92;

    private static final List<String> NAMES = build();

    private Llama4SpecialTokens() {
    }

    /** All 2048 names in id order. */
    public static List<String> names() {
        return NAMES;
    }

    private static List<String> build() {
        List<String> t = new ArrayList<>(COUNT);
        // basic special tokens
        t.addAll(List.of("<|begin_of_text|>", "<|end_of_text|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"));
        // text post-training tokens: the reserved numbers 6 and 7 became python_start/python_end, then the pad token
        t.addAll(List.of("<|header_start|>", "<|header_end|>", "<|eom|>", "<|eot|>", "<|step|>"));
        reserved(t, "text_post_train", 0, 6);
        t.addAll(List.of("<|python_start|>", "<|python_end|>", "<|finetune_right_pad|>"));
        reserved(t, "text_post_train", 8, 61);
        // vision tokens
        t.addAll(List.of("<|image_start|>", "<|image_end|>"));
        reserved(t, "vision", 0, 2);
        t.addAll(List.of("<|tile_x_separator|>", "<|tile_y_separator|>"));
        reserved(t, "vision", 2, 4);
        t.add("<|image|>");
        reserved(t, "vision", 6, 1);
        t.add("<|patch|>");
        reserved(t, "vision", 7, 1041);
        // reasoning tokens
        reserved(t, "reasoning", 0, 8);
        t.addAll(List.of("<|reasoning_thinking_start|>", "<|reasoning_thinking_end|>"));
        // generic reserved tokens fill up to 2048
        for (int i = 0; t.size() < COUNT; i++) {
            t.add("<|reserved_special_token_" + i + "|>");
        }
        if (t.size() != COUNT) {
            throw new AssertionError("special token groups overflow: " + t.size());
        }
        return List.copyOf(t);
    }

    private static void reserved(List<String> out, String group, int start, int count) {
        for (int i = start; i < start + count; i++) {
            out.add("<|" + group + "_reserved_special_token_" + i + "|>");
        }
    }
}
