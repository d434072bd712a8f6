package org.llama4j.safety.guard;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerFamily;

/** Small Llama 4 / Llama 3 family tokenizers built in code, so the guard is tested without the fixtures. */
final class TinyGuardVocabulary {
    /** Merged tokens after the 256 single bytes; every one is reachable by pairwise merges. */
    static final List<String> MERGED = List.of("un", "sa", "fe", "safe", "unsafe", " unsafe", "uns", "Un", "Unsafe",
            "\n\n", "S1", "S6", "S9", "\nS");

    private TinyGuardVocabulary() {
    }

    static Tokenizer llama4() {
        return Tokenizer.create(TokenizerFamily.LLAMA4, ranks(), TokenizerFamily.LLAMA4.metaSpecialTokens());
    }

    static Tokenizer llama3() {
        return Tokenizer.create(TokenizerFamily.LLAMA3, ranks(), TokenizerFamily.LLAMA3.metaSpecialTokens());
    }

    static int id(String merged) {
        int i = MERGED.indexOf(merged);
        if (i < 0) {
            throw new IllegalArgumentException(merged);
        }
        return 256 + i;
    }

    private static byte[][] ranks() {
        List<byte[]> ranked = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            ranked.add(new byte[] {(byte) b});
        }
        MERGED.forEach(s -> ranked.add(s.getBytes(StandardCharsets.UTF_8)));
        return ranked.toArray(byte[][]::new);
    }
}
