package org.llama4j.tokenizer;

import java.nio.file.Path;
import org.llama4j.format.ModelFormatException;

/** Reads the tokenizer metadata of a GGUF file and hands it to {@link GgufTokenizerAdapter}. */
final class GgufTokenizerSource {
    private GgufTokenizerSource() {
    }

    static Tokenizer load(Path file) {
        throw new ModelFormatException(file + ": GGUF tokenizers need org.llama4j.format.gguf.GgufFile,"
                + " which has not landed on this branch yet");
    }
}
