package org.llama4j.tokenizer;

import static org.llama4j.tokenizer.CodePointClasses.LOWER_WORD;
import static org.llama4j.tokenizer.CodePointClasses.UPPER_WORD;
import static org.llama4j.tokenizer.CodePointClasses.isLetter;
import static org.llama4j.tokenizer.CodePointClasses.isNumber;
import static org.llama4j.tokenizer.CodePointClasses.isPunctuation;
import static org.llama4j.tokenizer.CodePointClasses.isWhitespace;
import static org.llama4j.tokenizer.CodePointClasses.isWordPrefix;
import static org.llama4j.tokenizer.CodePointClasses.of;

/**
 * Splits text into the pieces that BPE then encodes one by one, exactly as tiktoken's {@code fancy-regex}
 * {@code find_iter} does with Meta's pattern. Each pattern is implemented as a hand-written scanner instead of
 * a {@code java.util.regex} pattern: Java's {@code \s} and case-insensitive matching differ from the Rust crates,
 * and its backtracking engine overflows the stack or turns quadratic on megabyte-long words and whitespace runs.
 * Every scanner mirrors the leftmost-first, greedy-with-backtracking semantics of its regex alternative by
 * alternative; each call costs time proportional to the text it inspects, and no character is inspected more
 * than a small constant number of times over a whole text.
 */
public sealed interface PreTokenizer permits PreTokenizer.Llama4, PreTokenizer.Llama3 {

    /** The regex this scanner implements, as written in Meta's {@code tokenizer.py}. */
    String pattern();

    /**
     * Returns the end (exclusive) of the piece that starts at {@code start} in {@code text[start, end)};
     * always greater than {@code start}, because every code point is matched by some alternative.
     * {@code end} is the end of the current stretch of text: lookaheads do not see past it.
     */
    int pieceEnd(int[] text, int start, int end);

    /** Meta's Llama 4 pattern ({@code O200K_PATTERN} in {@code models/llama4/tokenizer.py}). */
    PreTokenizer LLAMA4 = new Llama4();
    /** Meta's Llama 3 pattern ({@code Tokenizer.pat_str} in {@code models/llama3/tokenizer.py}). */
    PreTokenizer LLAMA3 = new Llama3();

    /** The scanner for a regex found in a tokenizer file, if it is one of the supported patterns. */
    static java.util.Optional<PreTokenizer> forPattern(String regex) {
        for (PreTokenizer p : new PreTokenizer[] {LLAMA4, LLAMA3}) {
            if (p.pattern().equals(regex)) {
                return java.util.Optional.of(p);
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * {@code [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
     * |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
     * |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+}
     */
    final class Llama4 implements PreTokenizer {
        private static final String PATTERN = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
                + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?"
                + "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
                + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

        private Llama4() {
        }

        @Override
        public String pattern() {
            return PATTERN;
        }

        @Override
        public int pieceEnd(int[] t, int s, int end) {
            int e = upperThenLowerWord(t, s, end);
            if (e < 0) {
                e = upperLedWord(t, s, end);
            }
            if (e >= 0) {
                return contractionEnd(t, e, end);
            }
            if (isNumber(t[s])) {
                return digitGroupEnd(t, s, end);
            }
            e = punctuationEnd(t, s, end, true);
            return e >= 0 ? e : whitespaceEnd(t, s, end);
        }

        /** Alternative 1 without its contraction: {@code P?[U]*[L]+}, the prefix tried first (greedy). */
        private static int upperThenLowerWord(int[] t, int s, int end) {
            if (s + 1 < end && isWordPrefix(t[s])) {
                int e = upperStarLowerPlus(t, s + 1, end);
                if (e >= 0) {
                    return e;
                }
            }
            return upperStarLowerPlus(t, s, end);
        }

        /**
         * {@code [U]*[L]+} at {@code p}. The classes overlap (Lm, Lo, M are in both), so when the greedy
         * {@code [U]*} run is not followed by an L-class character, the regex backtracks into the run and
         * ends right after its last L-class character.
         */
        private static int upperStarLowerPlus(int[] t, int p, int end) {
            int k = p;
            while (k < end && (of(t[k]) & UPPER_WORD) != 0) {
                k++;
            }
            if (k < end && (of(t[k]) & LOWER_WORD) != 0) {
                k++;
                while (k < end && (of(t[k]) & LOWER_WORD) != 0) {
                    k++;
                }
                return k;
            }
            for (int j = k - 1; j >= p; j--) {
                if ((of(t[j]) & LOWER_WORD) != 0) {
                    return j + 1; // t[j+1..k) are Lu/Lt and t[k] is not L-class: [L]+ stops here
                }
            }
            return -1;
        }

        /** Alternative 2 without its contraction: {@code P?[U]+[L]*}; after {@code [U]+} nothing can fail. */
        private static int upperLedWord(int[] t, int s, int end) {
            int p;
            if (s + 1 < end && isWordPrefix(t[s]) && (of(t[s + 1]) & UPPER_WORD) != 0) {
                p = s + 1;
            } else if ((of(t[s]) & UPPER_WORD) != 0) {
                p = s;
            } else {
                return -1;
            }
            while (p < end && (of(t[p]) & UPPER_WORD) != 0) {
                p++;
            }
            while (p < end && (of(t[p]) & LOWER_WORD) != 0) {
                p++;
            }
            return p;
        }
    }

    /**
     * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+
     * |\s+(?!\S)|\s+}
     */
    final class Llama3 implements PreTokenizer {
        private static final String PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
                + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

        private Llama3() {
        }

        @Override
        public String pattern() {
            return PATTERN;
        }

        @Override
        public int pieceEnd(int[] t, int s, int end) {
            int e = contractionEnd(t, s, end);
            if (e > s) {
                return e;
            }
            int p = -1;
            if (s + 1 < end && isWordPrefix(t[s]) && isLetter(t[s + 1])) {
                p = s + 1;
            } else if (isLetter(t[s])) {
                p = s;
            }
            if (p >= 0) {
                while (p < end && isLetter(t[p])) {
                    p++;
                }
                return p;
            }
            if (isNumber(t[s])) {
                return digitGroupEnd(t, s, end);
            }
            e = punctuationEnd(t, s, end, false);
            return e >= 0 ? e : whitespaceEnd(t, s, end);
        }
    }

    /**
     * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)?} at {@code p}: returns the end of the contraction, or {@code p}.
     * Case-insensitive means Unicode simple case folding, under which {@code s} also matches U+017F (long s).
     */
    private static int contractionEnd(int[] t, int p, int end) {
        if (p + 1 >= end || t[p] != '\'') {
            return p;
        }
        int c = Character.toLowerCase(t[p + 1]);
        switch (c) {
            case 's', 0x17F, 't', 'm', 'd' -> {
                return p + 2;
            }
            case 'r', 'v' -> {
                return p + 2 < end && Character.toLowerCase(t[p + 2]) == 'e' ? p + 3 : p;
            }
            case 'l' -> {
                return p + 2 < end && Character.toLowerCase(t[p + 2]) == 'l' ? p + 3 : p;
            }
            default -> {
                return p;
            }
        }
    }

    /** {@code \p{N}{1,3}}. */
    private static int digitGroupEnd(int[] t, int s, int end) {
        int e = s + 1;
        while (e < end && e < s + 3 && isNumber(t[e])) {
            e++;
        }
        return e;
    }

    /** {@code ?[^\s\p{L}\p{N}]+[\r\n/]*} (Llama 4) or {@code ...[\r\n]*} (Llama 3); -1 when it does not match. */
    private static int punctuationEnd(int[] t, int s, int end, boolean slashInTail) {
        int p = s;
        if (t[p] == ' ' && p + 1 < end && isPunctuation(t[p + 1])) {
            p++;
        }
        if (!isPunctuation(t[p])) {
            return -1;
        }
        p++;
        while (p < end && isPunctuation(t[p])) {
            p++;
        }
        while (p < end && (t[p] == '\r' || t[p] == '\n' || (slashInTail && t[p] == '/'))) {
            p++;
        }
        return p;
    }

    /** {@code \s*[\r\n]+|\s+(?!\S)|\s+} at a whitespace character (every other character matched earlier). */
    private static int whitespaceEnd(int[] t, int s, int end) {
        int k = s;
        while (k < end && isWhitespace(t[k])) {
            k++;
        }
        if (k == s) {
            throw new IllegalStateException("pre-tokenizer: no alternative matches U+"
                    + Integer.toHexString(t[s]).toUpperCase(java.util.Locale.ROOT));
        }
        // \s*[\r\n]+: the greedy \s* backs off to the last line break of the run.
        for (int j = k - 1; j >= s; j--) {
            if (t[j] == '\r' || t[j] == '\n') {
                return j + 1;
            }
        }
        // \s+(?!\S): at the end of the text the whole run; before a non-space, all but its last character.
        if (k == end || k - s == 1) {
            return k; // (a single space before a non-space falls through to \s+)
        }
        return k - 1;
    }
}
