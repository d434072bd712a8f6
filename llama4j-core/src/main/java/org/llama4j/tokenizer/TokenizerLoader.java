package org.llama4j.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.llama4j.format.ModelFormatException;

/**
 * Loads a tokenizer from any of the files people download, giving identical ids for the same vocabulary:
 * Meta's {@code tokenizer.model}, a Hugging Face {@code tokenizer.json} (with {@code tokenizer_config.json} beside
 * it when present), a Hugging Face model folder, or a GGUF file.
 */
public final class TokenizerLoader {
    private TokenizerLoader() {
    }

    /** @throws ModelFormatException when the file is not a supported tokenizer, saying which and why */
    public static Tokenizer load(Path path) {
        try {
            if (Files.isDirectory(path)) {
                return loadFolder(path);
            }
            if (!Files.isRegularFile(path)) {
                throw new ModelFormatException(path + ": no such file or folder; expected a tokenizer.model,"
                        + " tokenizer.json, Hugging Face folder or .gguf file");
            }
            byte[] head = readHead(path);
            if (head.length >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') {
                return GgufTokenizerSource.load(path);
            }
            if (looksLikeJson(head)) {
                return HuggingFaceTokenizerReader.read(path, path.resolveSibling("tokenizer_config.json"));
            }
            return TiktokenModelReader.read(path);
        } catch (IOException e) {
            throw new UncheckedIOException("reading tokenizer " + path + ": " + e.getMessage(), e);
        }
    }

    private static Tokenizer loadFolder(Path folder) throws IOException {
        Path json = folder.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            return HuggingFaceTokenizerReader.read(json, folder.resolve("tokenizer_config.json"));
        }
        Path model = folder.resolve("tokenizer.model");
        if (Files.isRegularFile(model)) {
            return TiktokenModelReader.read(model);
        }
        try (var files = Files.list(folder)) {
            Path[] ggufs = files.filter(p -> p.getFileName().toString().endsWith(".gguf")).sorted().toArray(Path[]::new);
            if (ggufs.length == 1) {
                return GgufTokenizerSource.load(ggufs[0]);
            }
        }
        throw new ModelFormatException(folder + ": expected tokenizer.json, tokenizer.model or a single .gguf file"
                + " in this folder, found none of them");
    }

    private static byte[] readHead(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(16);
        }
    }

    /** JSON starts with an object, perhaps after whitespace; a tiktoken ranks file starts with base64. */
    private static boolean looksLikeJson(byte[] head) {
        for (byte b : head) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return b == '{';
            }
        }
        return false;
    }
}
