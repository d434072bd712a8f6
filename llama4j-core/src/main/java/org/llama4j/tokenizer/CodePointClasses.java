package org.llama4j.tokenizer;

/**
 * Unicode character classes used by the pre-tokenizer patterns, with the meaning they have in the Rust
 * {@code regex}/{@code fancy-regex} crates that tiktoken uses (not {@code java.util.regex}'s ASCII defaults):
 * {@code \s} is the Unicode {@code White_Space} property, {@code \p{L}}, {@code \p{N}}, {@code \p{M}} are general
 * categories. The BMP is answered from a precomputed table because this is on the hot path of every encode.
 */
final class CodePointClasses {
    static final int LETTER = 1;          // \p{L}
    static final int UPPER_WORD = 2;      // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
    static final int LOWER_WORD = 4;      // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
    static final int NUMBER = 8;          // \p{N}
    static final int WHITESPACE = 16;     // \s (White_Space)
    static final int PYTHON_SPACE = 32;   // Python str.isspace(): White_Space plus U+001C..U+001F

    private static final byte[] BMP = new byte[0x10000];

    static {
        for (int cp = 0; cp < 0x10000; cp++) {
            BMP[cp] = (byte) compute(cp);
        }
    }

    private CodePointClasses() {
    }

    static int of(int cp) {
        return cp < 0x10000 ? BMP[cp] : compute(cp);
    }

    static boolean isWhitespace(int cp) {
        return (of(cp) & WHITESPACE) != 0;
    }

    static boolean isPythonSpace(int cp) {
        return (of(cp) & PYTHON_SPACE) != 0;
    }

    static boolean isLetter(int cp) {
        return (of(cp) & LETTER) != 0;
    }

    static boolean isNumber(int cp) {
        return (of(cp) & NUMBER) != 0;
    }

    /** {@code [^\r\n\p{L}\p{N}]}: the optional one-character prefix of a word. */
    static boolean isWordPrefix(int cp) {
        return cp != '\r' && cp != '\n' && (of(cp) & (LETTER | NUMBER)) == 0;
    }

    /** {@code [^\s\p{L}\p{N}]}: punctuation, symbols, marks, controls, unassigned. */
    static boolean isPunctuation(int cp) {
        return (of(cp) & (LETTER | NUMBER | WHITESPACE)) == 0;
    }

    private static int compute(int cp) {
        int flags = 0;
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.TITLECASE_LETTER -> flags |= LETTER | UPPER_WORD;
            case Character.LOWERCASE_LETTER -> flags |= LETTER | LOWER_WORD;
            case Character.MODIFIER_LETTER, Character.OTHER_LETTER -> flags |= LETTER | UPPER_WORD | LOWER_WORD;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK ->
                    flags |= UPPER_WORD | LOWER_WORD;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> flags |= NUMBER;
            default -> { }
        }
        if (isUnicodeWhiteSpace(cp)) {
            flags |= WHITESPACE | PYTHON_SPACE;
        } else if (cp >= 0x1C && cp <= 0x1F) {
            flags |= PYTHON_SPACE; // information separators: bidi class B/S, so Python counts them as space
        }
        return flags;
    }

    /** The Unicode {@code White_Space} property (PropList.txt); stable since Unicode 6.3. */
    private static boolean isUnicodeWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }
}
