package org.llama4j.tokenizer;

import java.nio.file.Path;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufFile;

/** Reads the {@code tokenizer.ggml.*} metadata of a GGUF file and hands it to {@link GgufTokenizerAdapter}. */
final class GgufTokenizerSource {
    private GgufTokenizerSource() {
    }

    static Tokenizer load(Path file) {
        try (GgufFile gguf = GgufFile.open(file)) {
            for (String key : new String[] {"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
                "tokenizer.ggml.merges"}) {
                if (!gguf.has(key)) {
                    throw new ModelFormatException(file + ": metadata key '" + key + "' is missing; expected a GGUF"
                            + " with an embedded byte-level BPE tokenizer");
                }
            }
            return GgufTokenizerAdapter.fromMetadata(file.toString(), gguf.getString("tokenizer.ggml.model"),
                    gguf.getStringOr("tokenizer.ggml.pre", "default"), gguf.getStringArray("tokenizer.ggml.tokens"),
                    gguf.getIntArray("tokenizer.ggml.token_type"), gguf.getStringArray("tokenizer.ggml.merges"));
        }
    }
}
