package org.llama4j.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.llama4j.model.synthetic.QuantRecipe;
import org.llama4j.model.synthetic.SyntheticModelConfig;
import org.llama4j.model.synthetic.SyntheticModelWriter;

/**
 * Self-contained test models: random-weight Llama 4 GGUFs written by the synthetic generator (with a small
 * byte-level tokenizer and the official chat template), so end-to-end tests run on a fresh clone without
 * fixtures. Each (preset, type, seed) is generated once per JVM into a temporary folder.
 */
public final class TinyModels {
    private static final Map<String, Path> CACHE = new ConcurrentHashMap<>();

    private TinyModels() {
    }

    /** The {@code tiny} preset in BF16. */
    public static Path tinyGguf() {
        return gguf("tiny", QuantRecipe.FileType.BF16, 7);
    }

    public static Path gguf(String preset, QuantRecipe.FileType type, long seed) {
        return CACHE.computeIfAbsent(preset + "-" + type + "-" + seed, key -> {
            try {
                Path dir = Files.createTempDirectory("llama4j-tiny-model");
                Path file = dir.resolve(key + ".gguf");
                new SyntheticModelWriter(SyntheticModelConfig.preset(preset), type, seed).threads(2).write(file);
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
                return file;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
