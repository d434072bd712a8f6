package org.llama4j.model;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.kernel.KernelMode;
import org.llama4j.tensor.InterleavedQ4Tensor;
import org.llama4j.tensor.Tensor;

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
                weights = LoadTimeQuantizer.quantize(weights, config, options.quantization().get(), quantized,
                        options.activations() != KernelMode.EXACT);
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
        Arena interleaved = options.activations() != KernelMode.EXACT ? Arena.ofShared() : null;
        try {
            Llama4Config config = Llama4GgufConfig.read(gguf);
            TensorLookup tensors = new TensorLookup(path.toString(),
                    interleaved == null ? gguf::findTensor : interleavingQ4(gguf::findTensor, interleaved));
            Llama4Weights weights = GgufWeightLayout.load(tensors, config);
            if (interleaved == null) {
                return new Llama4Model(config, weights, options.activations(), gguf);
            }
            return new Llama4Model(config, weights, options.activations(), () -> {
                try {
                    gguf.close();
                } finally {
                    interleaved.close();
                }
            });
        } catch (RuntimeException e) {
            gguf.close();
            if (interleaved != null) {
                interleaved.close();
            }
            throw e;
        }
    }

    /**
     * With 8-bit activations ({@link KernelMode#Q8_ACTIVATIONS} or {@link KernelMode#AUTO}), Q4_0 and Q4_K
     * matrices are wrapped for {@link InterleavedQ4Tensor}'s integer kernel, which repacks each on its first use
     * (once per name; the token embeddings are only ever read a row at a time and stay as they are).
     */
    private static Function<String, Optional<Tensor>> interleavingQ4(Function<String, Optional<Tensor>> finder,
            Arena arena) {
        Map<String, Optional<Tensor>> done = new HashMap<>();
        return name -> done.computeIfAbsent(name, n -> finder.apply(n)
                .map(t -> n.equals("token_embd.weight") ? t : InterleavedQ4Tensor.interleaveIfSupported(t, arena)));
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
