package org.llama4j.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.llama4j.format.ModelFormatException;

/**
 * Builds a tokenizer from the {@code tokenizer.ggml.*} metadata llama.cpp writes for a Llama BPE vocabulary:
 * {@code model = gpt2}, {@code pre = llama4 | llama-bpe}, {@code tokens} in byte-level form, {@code token_type}
 * (1 normal, 3 control, 4 user-defined) and {@code merges}. GGUF stores no ranks; the normal tokens come first,
 * so their ids are taken as ranks, and the merges are checked to be ordered by those ids (otherwise rank-based
 * BPE would not reproduce them). Kept independent of the GGUF reader: it takes plain arrays.
 */
public final class GgufTokenizerAdapter {
    static final int TYPE_NORMAL = 1;
    static final int TYPE_CONTROL = 3;
    static final int TYPE_USER_DEFINED = 4;

    private GgufTokenizerAdapter() {
    }

    /**
     * @param source    the file, for error messages
     * @param model     {@code tokenizer.ggml.model}
     * @param pre       {@code tokenizer.ggml.pre}
     * @param tokens    {@code tokenizer.ggml.tokens}
     * @param tokenTypes {@code tokenizer.ggml.token_type}
     * @param merges    {@code tokenizer.ggml.merges} ("left right" in byte-level form)
     */
    public static Tokenizer fromMetadata(String source, String model, String pre, String[] tokens, int[] tokenTypes,
                                         String[] merges) {
        if (!"gpt2".equals(model)) {
            throw new ModelFormatException(source + ": tokenizer.ggml.model: expected \"gpt2\" (byte-level BPE),"
                    + " found \"" + model + "\"");
        }
        TokenizerFamily family = Arrays.stream(TokenizerFamily.values())
                .filter(f -> f.ggufPreNames().contains(pre)).findFirst()
                .orElseThrow(() -> new ModelFormatException(source + ": tokenizer.ggml.pre: expected one of "
                        + "\"llama4\", \"llama-bpe\", found \"" + pre + "\""));
        if (tokenTypes.length != tokens.length) {
            throw new ModelFormatException(source + ": tokenizer.ggml.token_type has " + tokenTypes.length
                    + " entries; expected one per token (" + tokens.length + ")");
        }
        int rankCount = 0;
        while (rankCount < tokens.length && tokenTypes[rankCount] == TYPE_NORMAL) {
            rankCount++;
        }
        List<String> specials = new ArrayList<>(tokens.length - rankCount);
        for (int id = rankCount; id < tokens.length; id++) {
            if (tokenTypes[id] != TYPE_CONTROL && tokenTypes[id] != TYPE_USER_DEFINED) {
                throw new ModelFormatException(source + ": tokenizer.ggml.token_type[" + id + "]: expected 3"
                        + " (control) or 4 (user-defined) after the " + rankCount
                        + " normal tokens, found " + tokenTypes[id]
                        + " (BPE tokens must come first so that id = rank)");
            }
            specials.add(tokens[id]);
        }
        BytePairEncoder bpe;
        try {
            bpe = new BytePairEncoder(ByteLevelVocabulary.decodeTokens(source + " tokenizer.ggml.tokens", tokens, rankCount));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": tokenizer.ggml.tokens: " + e.getMessage(), e);
        }
        List<String[]> pairs = new ArrayList<>(merges.length);
        for (int i = 0; i < merges.length; i++) {
            int space = merges[i].indexOf(' ');
            if (space <= 0 || space != merges[i].lastIndexOf(' ') || space == merges[i].length() - 1) {
                throw new ModelFormatException(source + ": tokenizer.ggml.merges[" + i
                        + "]: expected \"left right\", found \"" + merges[i] + "\"");
            }
            pairs.add(new String[] {merges[i].substring(0, space), merges[i].substring(space + 1)});
        }
        ByteLevelVocabulary.verifyMerges(source + " tokenizer.ggml.merges", bpe, pairs);
        try {
            return Tokenizer.create(family, bpe, specials);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": " + e.getMessage(), e);
        }
    }
}
