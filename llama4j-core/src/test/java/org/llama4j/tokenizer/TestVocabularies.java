package org.llama4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Small vocabularies built in code, so every code path is tested without the shared fixtures. */
final class TestVocabularies {
    private TestVocabularies() {
    }

    /** Ranks 0..255 are the single bytes; then the given strings' UTF-8 bytes, in order. */
    static byte[][] ranks(String... merged) {
        List<byte[]> ranked = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            ranked.add(new byte[] {(byte) b});
        }
        for (String s : merged) {
            ranked.add(s.getBytes(StandardCharsets.UTF_8));
        }
        return ranked.toArray(byte[][]::new);
    }

    /** A Llama 4-family tokenizer over a tiny vocabulary, with Meta's 2,048 special tokens after it. */
    static Tokenizer tinyLlama4() {
        return Tokenizer.create(TokenizerFamily.LLAMA4, ranks("ab", "abc", "th", "he", "the", " t", " the", "  ",
                "   ", "\n\n", "aa", "aaaa", "he ", "€", "é"), TokenizerFamily.LLAMA4.metaSpecialTokens());
    }
}
