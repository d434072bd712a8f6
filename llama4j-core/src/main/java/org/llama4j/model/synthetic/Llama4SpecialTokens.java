package org.llama4j.model.synthetic;

import java.util.List;
import org.llama4j.tokenizer.TokenizerFamily;

/**
 * The 2048 Llama 4 special tokens in the order Meta's {@code models/llama4/tokenizer.py} assigns their ids
 * (200000.. in the full vocabulary; right after the BPE tokens in a truncated one): the tokenizer's own list
 * ({@link TokenizerFamily#metaSpecialTokens}), plus the offsets the generator needs.
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

    private static final List<String> NAMES = TokenizerFamily.LLAMA4.metaSpecialTokens();

    private Llama4SpecialTokens() {
    }

    /** All 2048 names in id order. */
    public static List<String> names() {
        return NAMES;
    }
}
