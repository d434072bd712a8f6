package org.llama4j.tokenizer;

import java.util.List;
import org.llama4j.format.ModelFormatException;

/**
 * Shared by the Hugging Face and GGUF sources, which write tokens in {@link ByteLevelAlphabet} form and carry a
 * merge list instead of ranks. tiktoken merges by the rank (= id) of the merged token, so those sources give
 * tiktoken's ids only if their merges are ordered by the merged token's id; {@link #verifyMerges} checks that
 * instead of trusting it.
 */
final class ByteLevelVocabulary {
    private ByteLevelVocabulary() {
    }

    /** Decodes the BPE tokens {@code tokens[0, count)}; the index is the rank. */
    static byte[][] decodeTokens(String source, String[] tokens, int count) {
        byte[][] ranked = new byte[count][];
        for (int id = 0; id < count; id++) {
            if (tokens[id] == null) {
                throw new ModelFormatException(source + ": no token has id " + id
                        + "; expected ids 0.." + (count - 1) + " without gaps");
            }
            ranked[id] = ByteLevelAlphabet.decode(tokens[id]);
            if (ranked[id] == null) {
                throw new ModelFormatException(source + ": token " + id + " '" + tokens[id]
                        + "' has a character outside GPT-2's byte-level alphabet; expected a byte-level BPE vocabulary");
            }
        }
        return ranked;
    }

    /**
     * Checks that every merge joins two tokens into a token and that the merged tokens' ids never decrease along
     * the list: then "apply the earliest merge" and "merge the pair of lowest rank" pick the same pairs.
     */
    static void verifyMerges(String source, BytePairEncoder bpe, List<String[]> merges) {
        MergeList list = new MergeList();
        for (String[] pair : merges) {
            list.add(pair[0], pair[1]);
        }
        verifyMerges(source, bpe, list);
    }

    /** {@link #verifyMerges(String, BytePairEncoder, List)} on a merge list decoded as it was read. */
    static void verifyMerges(String source, BytePairEncoder bpe, MergeList merges) {
        int previous = -1;
        int bad = merges.badIndex();
        byte[] data = merges.data();
        for (int i = 0, n = merges.size(); i < n; i++) {
            if (i == bad) {
                throw new ModelFormatException(source + ": merge " + i + " '" + merges.text(i)
                        + "' has a character outside GPT-2's byte-level alphabet");
            }
            int merged = bpe.rank(data, merges.start(i), merges.end(i));
            if (merged == Integer.MAX_VALUE) {
                throw new ModelFormatException(source + ": merge " + i + " '" + merges.text(i)
                        + "' produces a string that is not a token");
            }
            if (merged < previous) {
                throw new ModelFormatException(source + ": merge " + i + " '" + merges.text(i)
                        + "' makes token " + merged + " after a merge that made token " + previous
                        + "; expected merges ordered by merged token id (tiktoken-derived), which rank-based BPE"
                        + " needs to reproduce them");
            }
            previous = merged;
        }
    }
}
