package org.llama4j.model;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.hf.HfModelFolder;

/** Opens a checkpoint (HF folder or GGUF file), reads its config and wires its tensors into {@link Llama4Weights}. */
final class Llama4Loader {
    private Llama4Loader() {
    }

    static Llama4Model load(Path path, LoadOptions options) {
        if (Files.isDirectory(path)) {
            HfModelFolder folder = HfModelFolder.open(path);
            Arena quantized = options.quantization().isPresent() ? Arena.ofShared() : null;
            try {
                Llama4Config config = Llama4Config.fromHf(folder.config());
                TensorLookup tensors = new TensorLookup(path.toString(), folder::findTensor);
                Llama4Weights weights = HfWeightLayout.load(tensors, config);
                if (quantized == null) {
                    return new Llama4Model(config, weights, options.activations(), folder);
                }
                weights = LoadTimeQuantizer.quantize(weights, config, options.quantization().get(), quantized);
                // Routers (kept as stored) still read the mapped files: close those first, then the quantized data.
                return new Llama4Model(config, weights, options.activations(), () -> {
                    try {
                        folder.close();
                    } finally {
                        quantized.close();
                    }
                });
            } catch (RuntimeException e) {
                folder.close();
                if (quantized != null) {
                    quantized.close();
                }
                throw e;
            }
        }
        if (options.quantization().isPresent()) {
            throw new IllegalArgumentException(path + ": quantizing at load applies to Hugging Face safetensors folders "
                    + "(bf16 or FP8); a GGUF file is used in the types it stores (make a "
                    + options.quantization().get().cliName() + " GGUF with llama.cpp's llama-quantize instead)");
        }
        GgufFile gguf = GgufFile.open(path);
        try {
            Llama4Config config = Llama4GgufConfig.read(gguf);
            TensorLookup tensors = new TensorLookup(path.toString(), gguf::findTensor);
            return new Llama4Model(config, GgufWeightLayout.load(tensors, config), options.activations(), gguf);
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
