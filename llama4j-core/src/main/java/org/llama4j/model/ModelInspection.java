package org.llama4j.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.gguf.GgufTensorInfo;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.format.safetensors.TensorInfo;

/**
 * What a checkpoint holds, as llama4j understands it: format, the model description, every tensor with its type
 * and shape, parameter counts (total, and active per token: a MoE token runs only {@code expertsPerToken} of the
 * routed experts) and bytes on disk. Reads headers only; no weights are touched.
 *
 * @param config       the model description, or null when the file holds no model (a vocabulary-only GGUF)
 * @param configError  why the description could not be built, or null
 */
public record ModelInspection(
        Path path,
        String format,
        String architecture,
        Llama4Config config,
        String configError,
        List<TensorEntry> tensors,
        long totalParameters,
        long activeParameters,
        long visionParameters,
        long bytesOnDisk) {

    /** One tensor; {@code shape} in the file's own order (ggml order for GGUF, PyTorch order for safetensors). */
    public record TensorEntry(String name, String type, long[] shape, long elements, long bytes) {
    }

    public static ModelInspection of(Path path) {
        return Files.isDirectory(path) ? ofHfFolder(path) : ofGguf(path);
    }

    private static ModelInspection ofGguf(Path path) {
        try (GgufFile gguf = GgufFile.open(path)) {
            List<TensorEntry> tensors = new ArrayList<>();
            for (GgufTensorInfo t : gguf.tensorInfos()) {
                tensors.add(new TensorEntry(t.name(), t.type().name(), t.shape(), elements(t.shape()), t.byteSize()));
            }
            Llama4Config config = null;
            String error = null;
            if (tensors.isEmpty()) {
                error = "no tensors: " + gguf.getStringOr("general.type", "vocabulary-only") + " file";
            } else {
                try {
                    config = Llama4GgufConfig.read(gguf);
                } catch (RuntimeException e) {
                    error = e.getMessage();
                }
            }
            return build(path, "gguf", gguf.getStringOr("general.architecture", "?"), config, error, tensors,
                    size(path));
        }
    }

    private static ModelInspection ofHfFolder(Path path) {
        try (HfModelFolder folder = HfModelFolder.open(path)) {
            List<TensorEntry> tensors = new ArrayList<>();
            for (String name : folder.tensorNames().stream().sorted().toList()) {
                TensorInfo t = folder.info(name);
                tensors.add(new TensorEntry(name, t.dtype().name(), t.shape(), t.elementCount(), t.byteSize()));
            }
            Llama4Config config = null;
            String error = null;
            try {
                config = Llama4Config.fromHf(folder.config());
            } catch (RuntimeException e) {
                error = e.getMessage();
            }
            long bytes = 0;
            for (Path f : folder.weightFiles()) {
                bytes += size(f);
            }
            return build(path, "hf", folder.architecture().toString(), config, error, tensors, bytes);
        }
    }

    private static ModelInspection build(Path path, String format, String arch, Llama4Config config, String error,
            List<TensorEntry> tensors, long bytes) {
        long total = 0;
        long inactive = 0;
        long vision = 0;
        for (TensorEntry t : tensors) {
            total += t.elements();
            if (isVision(t.name())) {
                vision += t.elements();
            } else if (config != null && isRoutedExpert(t.name()) && config.expertCount() > 0) {
                // Only expertsPerToken of expertCount routed experts run for a token.
                inactive += t.elements() / config.expertCount() * (config.expertCount() - config.expertsPerToken());
            }
        }
        return new ModelInspection(path, format, arch, config, error, List.copyOf(tensors), total,
                total - inactive - vision, vision, bytes);
    }

    /** GGUF {@code blk.N.ffn_*_exps}; HF {@code ...feed_forward.experts.*} (not the shared expert). */
    static boolean isRoutedExpert(String name) {
        return name.contains("_exps") || name.contains(".feed_forward.experts.");
    }

    static boolean isVision(String name) {
        return name.startsWith("vision_model.") || name.startsWith("multi_modal_projector.") || name.startsWith("v.")
                || name.startsWith("mm.");
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Which layers are MoE / NoPE, as strings for display. */
    public static String layerList(List<Integer> layers, int count) {
        if (layers.size() == count) {
            return "all";
        }
        return layers.isEmpty() ? "none" : layers.toString();
    }

}
