package org.llama4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class PreTokenizerTest {
    /** Rust-regex {@code \s}: Unicode White_Space, spelled out for java.util.regex. */
    private static final String WS = "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
            + "\\x{202F}\\x{205F}\\x{3000}";
    private static final String CONTRACTION = "(?:'[sS\\x{17F}]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

    /**
     * Meta's patterns translated for java.util.regex, which is also a leftmost-first backtracking engine; with the
     * classes spelled out it is an independent oracle on short strings (where its recursion is harmless).
     */
    static final Pattern LLAMA4_ORACLE = Pattern.compile(
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" + CONTRACTION + "?"
            + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" + CONTRACTION + "?"
            + "|\\p{N}{1,3}| ?[^" + WS + "\\p{L}\\p{N}]+[\\r\\n/]*|[" + WS + "]*[\\r\\n]+|[" + WS + "]+(?![^" + WS + "])"
            + "|[" + WS + "]+");
    static final Pattern LLAMA3_ORACLE = Pattern.compile(CONTRACTION + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^" + WS + "\\p{L}\\p{N}]+[\\r\\n]*|[" + WS + "]*[\\r\\n]+|[" + WS + "]+(?![^" + WS + "])|[" + WS + "]+");

    /** Characters from every class the patterns distinguish, including the overlaps (Lm, Lo, M) and edge spaces. */
    private static final int[] POOL = {
        'a', 'z', 'A', 'Z', 'ǅ' /* Lt */, 'ʰ' /* Lm */, '中', 'ก' /* Lo */, 0x301 /* Mn */, 0x903 /* Mc */, 0x20DD /* Me */,
        'ß', 'é', 'É', '1', '٣' /* Nd */, 'Ⅻ' /* Nl */, '²' /* No */, ' ', ' ', '\t', '\n', '\r', 0x0B, 0x85, 0xA0, 0x2028,
        0x3000, 0xFEFF, 0x200B, 0x1C, '\'', 's', 'S', 't', 'l', 'L', 'r', 'e', 'v', 'm', 'd', 0x17F, '/', '.', '!', ',', '-',
        0x1F600, 0x1D400 /* math bold A, Lu */, 0x1D41A /* Ll */, 0x10FFFF, 0xFFFD, 0
    };

    static List<String> oracleSplit(Pattern pattern, String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int expectedStart = 0;
        while (m.find()) {
            assertThat(m.start()).as("oracle skipped text in %s", text).isEqualTo(expectedStart);
            pieces.add(m.group());
            expectedStart = m.end();
        }
        return pieces;
    }

    static List<String> split(PreTokenizer pre, String text) {
        int[] cps = text.codePoints().toArray();
        List<String> pieces = new ArrayList<>();
        for (int s = 0; s < cps.length; ) {
            int e = pre.pieceEnd(cps, s, cps.length);
            assertThat(e).isGreaterThan(s);
            pieces.add(new String(cps, s, e - s));
            s = e;
        }
        return pieces;
    }

    @Test
    void scannersAgreeWithTheRegexOracleOnRandomText() {
        Random random = new Random(7);
        for (int trial = 0; trial < 20_000; trial++) {
            StringBuilder sb = new StringBuilder();
            int length = 1 + random.nextInt(14);
            for (int i = 0; i < length; i++) {
                sb.appendCodePoint(POOL[random.nextInt(POOL.length)]);
            }
            String text = sb.toString();
            assertThat(split(PreTokenizer.LLAMA4, text)).as("llama4 %s", escape(text))
                    .isEqualTo(oracleSplit(LLAMA4_ORACLE, text));
            assertThat(split(PreTokenizer.LLAMA3, text)).as("llama3 %s", escape(text))
                    .isEqualTo(oracleSplit(LLAMA3_ORACLE, text));
        }
    }

    @Test
    void documentedBehaviours() {
        assertThat(split(PreTokenizer.LLAMA4, "a   b")).containsExactly("a", "  ", " b");
        assertThat(split(PreTokenizer.LLAMA4, "1234567")).containsExactly("123", "456", "7");
        assertThat(split(PreTokenizer.LLAMA4, "I'LL DON'T we'Re")).containsExactly("I'LL", " DON'T", " we'Re");
        assertThat(split(PreTokenizer.LLAMA4, "HelloWorld")).containsExactly("Hello", "World");
        assertThat(split(PreTokenizer.LLAMA4, "x  \n\n  y")).containsExactly("x", "  \n\n", " ", " y");
        assertThat(split(PreTokenizer.LLAMA4, "a.//\n/b")).containsExactly("a", ".//\n/", "b");
        assertThat(split(PreTokenizer.LLAMA3, "a.//\n/b")).containsExactly("a", ".//\n", "/b");
        assertThat(split(PreTokenizer.LLAMA3, "'sX")).containsExactly("'s", "X");
        assertThat(split(PreTokenizer.LLAMA4, "trailing   ")).containsExactly("trailing", "   ");
        // U+0085 (NEL) is \s; U+FEFF is not.
        assertThat(split(PreTokenizer.LLAMA4, "a\u0085\u0085b")).containsExactly("a", "\u0085", "\u0085b");
        assertThat(split(PreTokenizer.LLAMA4, "a\uFEFFb")).containsExactly("a", "\uFEFFb");
    }

    @Test
    void patternsAreMetasAndRecognised() {
        assertThat(PreTokenizer.forPattern(PreTokenizer.LLAMA4.pattern())).containsSame(PreTokenizer.LLAMA4);
        assertThat(PreTokenizer.forPattern(PreTokenizer.LLAMA3.pattern())).containsSame(PreTokenizer.LLAMA3);
        assertThat(PreTokenizer.forPattern("\\s+")).isEmpty();
    }

    @Test
    @Timeout(60)
    void megabyteRunsSplitInLinearTime() {
        for (String unit : new String[] {"a", " ", "A", "\u0301", "Aa\u0301", " \n", "1", "!", "A\u0301"}) {
            String text = unit.repeat((1 << 20) / unit.length()) + "x";
            int[] cps = text.codePoints().toArray();
            long pieces = 0;
            for (int s = 0; s < cps.length; pieces++) {
                s = PreTokenizer.LLAMA4.pieceEnd(cps, s, cps.length);
            }
            assertThat(pieces).isPositive();
            for (int s = 0; s < cps.length; ) {
                s = PreTokenizer.LLAMA3.pieceEnd(cps, s, cps.length);
            }
        }
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> sb.append(cp >= 0x20 && cp < 0x7F ? Character.toString(cp) : String.format("\\u{%X}", cp)));
        return sb.toString();
    }
}
