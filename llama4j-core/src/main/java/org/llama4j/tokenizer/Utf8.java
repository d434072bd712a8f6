package org.llama4j.tokenizer;

/**
 * Lenient UTF-8 decoding with the Unicode "maximal subpart" replacement practice (the one Python's
 * {@code errors="replace"} follows, as tiktoken's decode does): each maximal prefix of a well-formed sequence
 * that cannot be completed becomes one U+FFFD. Written out so that whole-text and streaming decoding share
 * exactly one definition, and so streaming can tell "incomplete so far" from "invalid".
 */
final class Utf8 {
    private Utf8() {
    }

    /**
     * Decodes {@code bytes[from, to)} into {@code out}. When {@code endOfInput} is false, a trailing sequence that
     * is valid so far but incomplete is left undecoded. Returns the offset up to which bytes were consumed.
     */
    static int decode(byte[] bytes, int from, int to, StringBuilder out, boolean endOfInput) {
        int i = from;
        while (i < to) {
            int b = bytes[i] & 0xFF;
            if (b < 0x80) {
                out.append((char) b);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            int cp;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
                cp = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                need = 2;
                cp = b & 0x0F;
                if (b == 0xE0) {
                    lo = 0xA0; // no overlong forms
                } else if (b == 0xED) {
                    hi = 0x9F; // no surrogates
                }
            } else if (b >= 0xF0 && b <= 0xF4) {
                need = 3;
                cp = b & 0x07;
                if (b == 0xF0) {
                    lo = 0x90;
                } else if (b == 0xF4) {
                    hi = 0x8F; // nothing above U+10FFFF
                }
            } else {
                out.append('\uFFFD'); // a continuation byte without a lead, or C0, C1, F5..FF
                i++;
                continue;
            }
            int j = i + 1;
            boolean invalid = false;
            for (int k = 0; k < need; k++, j++) {
                if (j >= to) {
                    if (!endOfInput) {
                        return i; // valid so far: wait for the rest
                    }
                    invalid = true;
                    break;
                }
                int c = bytes[j] & 0xFF;
                if (c < lo || c > hi) {
                    invalid = true;
                    break;
                }
                lo = 0x80;
                hi = 0xBF;
                cp = (cp << 6) | (c & 0x3F);
            }
            if (invalid) {
                out.append('\uFFFD');
                i = j; // the offending byte starts over as a possible lead byte
            } else {
                out.appendCodePoint(cp);
                i = j;
            }
        }
        return i;
    }
}
