package org.llama4j.model;

import java.nio.file.Files;
import java.nio.file.Path;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.hf.HfModelFolder;

/** Opens a checkpoint (HF folder or GGUF file), reads its config and wires its tensors into {@link Llama4Weights}. */
final class Llama4Loader {
    private Llama4Loader() {
    }

    static Llama4Model load(Path path) {
        if (Files.isDirectory(path)) {
            HfModelFolder folder = HfModelFolder.open(path);
            try {
                Llama4Config config = Llama4Config.fromHf(folder.config());
                TensorLookup tensors = new TensorLookup(path.toString(), folder::findTensor);
                return new Llama4Model(config, HfWeightLayout.load(tensors, config), folder);
            } catch (RuntimeException e) {
                folder.close();
                throw e;
            }
        }
        GgufFile gguf = GgufFile.open(path);
        try {
            Llama4Config config = Llama4GgufConfig.read(gguf);
            TensorLookup tensors = new TensorLookup(path.toString(), gguf::findTensor);
            return new Llama4Model(config, GgufWeightLayout.load(tensors, config), gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /** The config of a checkpoint, without wiring its weights. */
    static Llama4Config config(Path path) {
        if (Files.isDirectory(path)) {
            try (HfModelFolder folder = HfModelFolder.open(path)) {
                return Llama4Config.fromHf(folder.config());
            }
        }
        try (GgufFile gguf = GgufFile.open(path)) {
            return Llama4GgufConfig.read(gguf);
        }
    }
}
