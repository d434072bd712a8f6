package org.llama4j.tokenizer;

/**
 * GPT-2's byte-to-unicode alphabet, in which Hugging Face {@code tokenizer.json} and GGUF files write byte-level
 * BPE tokens: printable Latin-1 bytes stand for themselves, every other byte {@code b} is the character
 * {@code U+0100 + n} where {@code n} counts the non-printable bytes below {@code b} (space is {@code Ġ}, newline
 * {@code Ċ}).
 */
final class ByteLevelAlphabet {
    private static final int[] BYTE_OF_CHAR = new int[0x144];
    private static final char[] CHAR_OF_BYTE = new char[256];

    static {
        java.util.Arrays.fill(BYTE_OF_CHAR, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (0x100 + extra++);
            CHAR_OF_BYTE[b] = c;
            BYTE_OF_CHAR[c] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    /** The bytes a token string stands for, or {@code null} when it has a character outside the alphabet. */
    static byte[] decode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < out.length; i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return null;
            }
            out[i] = (byte) b;
        }
        return out;
    }

    /** The byte character {@code c} stands for, or -1 when it is outside the alphabet. */
    static int byteOf(char c) {
        return c < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[c] : -1;
    }

    static String encode(byte[] bytes, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            sb.append(CHAR_OF_BYTE[bytes[i] & 0xFF]);
        }
        return sb.toString();
    }

    static String encode(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            sb.append(CHAR_OF_BYTE[b & 0xFF]);
        }
        return sb.toString();
    }
}
