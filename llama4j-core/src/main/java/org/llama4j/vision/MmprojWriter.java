package org.llama4j.vision;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufWriter;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.tensor.BlockCodecs;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;
import org.llama4j.vision.VisionTensorNames.LayerTensor;

/**
 * Converts the vision tower and projector of an HF Llama 4 folder into a llama.cpp mmproj GGUF, laid out as
 * llama.cpp's {@code convert_hf_to_gguf.py --mmproj} writes it: the same metadata keys ({@link Mmproj}), the
 * tensor names of {@link VisionTensorNames#MMPROJ}, every tensor's values and shape unchanged (the converter
 * transposes nothing: the patch embedding stays the {@code [dim, 3·p²]} unfold matrix that clip.cpp reshapes to a
 * {@code [p, p, 3, dim]} kernel), and the converter's storage types:
 * <ul>
 * <li>1-D tensors, tensors whose name does not end in {@code .weight} ({@code v.class_embd}) and the positional
 * embedding: F32;</li>
 * <li>the patch embedding: F16 in an F16 file, else F32;</li>
 * <li>other matrices: the requested type (F32, F16, BF16 or Q8_0); Q8_0 falls back to F16 for a row length
 * that is not a whole number of blocks, as the converter does.</li>
 * </ul>
 */
public final class MmprojWriter {
    /** llama.cpp's {@code LlamaFileType} ids for {@code general.file_type}. */
    private static int fileTypeId(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("mmproj weights can be F32, F16, BF16 or Q8_0, not " + type);
        };
    }

    private record Planned(String hfName, String ggufName, GgmlType type) {
    }

    private MmprojWriter() {
    }

    /**
     * Writes {@code out} from {@code folder}'s vision tower (loaded and checked first, so a folder that would not
     * encode is refused before anything is written) with matrices stored as {@code weightType}.
     */
    public static void write(HfModelFolder folder, Path out, GgmlType weightType) throws IOException {
        int fileType = fileTypeId(weightType);
        VisionEncoder.Geometry g = VisionEncoder.load(folder).geometry();
        PreprocessorConfig pre = folder.preprocessorConfigJson()
                .map(json -> PreprocessorConfig.read(json, g.tileSize()))
                .orElse(PreprocessorConfig.defaults(g.tileSize()));

        if (Math.abs(g.ropeTheta() - Mmproj.ROPE_THETA) > 1e-6 * Mmproj.ROPE_THETA) {
            // clip.cpp has no key for it: a file with another base would silently compute something else there
            throw new ModelFormatException(folder.dir() + ": vision rope_theta " + g.ropeTheta()
                    + " cannot be stored in an mmproj file (llama.cpp fixes it at " + Mmproj.ROPE_THETA + ")");
        }
        GgufWriter w = metadata(g, folder.dir().getFileName().toString(), fileType, pre.mean(), pre.std());
        for (Planned p : plan(folder, g, weightType)) {
            Tensor t = folder.tensor(p.hfName());
            long[] shape = t.shape().clone();
            w.addTensor(p.ggufName(), p.type(), shape, sink -> {
                float[] values = t.toFloatArray();
                if (p.type() == GgmlType.F32) {
                    sink.writeFloats(values, 0, values.length);
                } else {
                    MemorySegment encoded = BlockCodecs.quantize(values, p.type());
                    sink.write(encoded);
                }
            });
        }
        w.write(out);
    }

    /** The metadata llama.cpp's converter writes, in its order. */
    private static GgufWriter metadata(VisionEncoder.Geometry g, String name, int fileType, float[] mean, float[] std) {
        GgufWriter w = new GgufWriter();
        w.putString(Mmproj.ARCHITECTURE, Mmproj.CLIP);
        w.putString(Mmproj.TYPE, "mmproj");
        w.putString(Mmproj.NAME, name);
        w.putUInt32(Mmproj.FILE_TYPE, fileType);
        w.putBool(Mmproj.HAS_VISION_ENCODER, true);
        w.putUInt32(Mmproj.PROJECTION_DIM, g.textHidden());
        w.putUInt32(Mmproj.IMAGE_SIZE, g.tileSize());
        w.putUInt32(Mmproj.PATCH_SIZE, g.patchSize());
        w.putUInt32(Mmproj.EMBEDDING_LENGTH, g.dim());
        w.putUInt32(Mmproj.FEED_FORWARD_LENGTH, g.mlpDim());
        w.putUInt32(Mmproj.BLOCK_COUNT, g.layers());
        w.putUInt32(Mmproj.HEAD_COUNT, g.heads());
        w.putFloat32Array(Mmproj.IMAGE_MEAN, mean);
        w.putFloat32Array(Mmproj.IMAGE_STD, std);
        w.putString(Mmproj.PROJECTOR_TYPE, Mmproj.LLAMA4);
        w.putFloat32(Mmproj.LAYER_NORM_EPSILON, g.eps());
        w.putUInt32(Mmproj.SCALE_FACTOR, g.shuffle());
        w.putBool(Mmproj.USE_GELU, true);
        return w;
    }

    /**
     * A random-weight mmproj of the given geometry (for benchmarks at real model sizes without downloading one):
     * matrices ~ N(0, 0.02²) stored as {@code weightType}, LayerNorm weights near 1, small biases.
     */
    public static void writeRandom(Path out, VisionEncoder.Geometry g, GgmlType weightType, long seed)
            throws IOException {
        GgufWriter w = metadata(g, "random", fileTypeId(weightType), new float[] {0.5f, 0.5f, 0.5f},
                new float[] {0.5f, 0.5f, 0.5f});
        VisionTensorNames n = VisionTensorNames.MMPROJ;
        int d = g.dim();
        int p2 = 3 * g.patchSize() * g.patchSize();
        int merged = g.shuffle() * g.shuffle() * d;
        long[] salt = {seed};
        java.util.function.BiConsumer<String, long[]> matrix = (name, shape) -> random(w, name, shape,
                name.equals(n.patchEmbedding()) || name.equals(n.positionalEmbedding()) ? GgmlType.F32 : weightType,
                0f, 0.02f, salt[0]++);
        java.util.function.BiConsumer<String, Float> vector = (name, centre) -> random(w, name, new long[] {d},
                GgmlType.F32, centre, 0.02f, salt[0]++);
        matrix.accept(n.patchEmbedding(), new long[] {p2, d});
        vector.accept(n.classEmbedding(), 0f);
        matrix.accept(n.positionalEmbedding(), new long[] {d, (long) g.grid() * g.grid() + 1});
        vector.accept(n.preNorm("weight"), 1f);
        vector.accept(n.preNorm("bias"), 0f);
        for (int l = 0; l < g.layers(); l++) {
            for (LayerTensor t : new LayerTensor[] {LayerTensor.INPUT_NORM, LayerTensor.POST_ATTENTION_NORM}) {
                vector.accept(n.layer(l, t, "weight"), 1f);
                vector.accept(n.layer(l, t, "bias"), 0f);
            }
            for (LayerTensor t : new LayerTensor[] {LayerTensor.Q, LayerTensor.K, LayerTensor.V, LayerTensor.OUT}) {
                matrix.accept(n.layer(l, t, "weight"), new long[] {d, d});
                vector.accept(n.layer(l, t, "bias"), 0f);
            }
            matrix.accept(n.layer(l, LayerTensor.FC1, "weight"), new long[] {d, g.mlpDim()});
            random(w, n.layer(l, LayerTensor.FC1, "bias"), new long[] {g.mlpDim()}, GgmlType.F32, 0f, 0.02f, salt[0]++);
            matrix.accept(n.layer(l, LayerTensor.FC2, "weight"), new long[] {g.mlpDim(), d});
            vector.accept(n.layer(l, LayerTensor.FC2, "bias"), 0f);
        }
        vector.accept(n.postNorm("weight"), 1f);
        vector.accept(n.postNorm("bias"), 0f);
        matrix.accept(n.adapter(1, "weight"), new long[] {merged, g.adapterDim()});
        matrix.accept(n.adapter(2, "weight"), new long[] {g.adapterDim(), g.outputDim()});
        matrix.accept(n.projector("weight"), new long[] {g.outputDim(), g.textHidden()});
        w.write(out);
    }

    private static void random(GgufWriter w, String name, long[] shape, GgmlType type, float centre, float spread,
                               long seed) {
        w.addTensor(name, type, shape, sink -> {
            long count = 1;
            for (long s : shape) {
                count *= s;
            }
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
            float[] values = new float[Math.toIntExact(count)];
            for (int i = 0; i < values.length; i++) {
                values[i] = centre + spread * (float) (rnd.nextDouble() * 2 - 1) * 1.7320508f; // uniform, std = spread
            }
            if (type == GgmlType.F32) {
                sink.writeFloats(values, 0, values.length);
            } else {
                sink.write(BlockCodecs.quantize(values, type));
            }
        });
    }

    /** Every vision tensor of the folder with its mmproj name and type; a vision tensor left over is an error. */
    private static List<Planned> plan(HfModelFolder folder, VisionEncoder.Geometry g, GgmlType weightType) {
        VisionTensorNames hf = VisionTensorNames.HUGGING_FACE;
        VisionTensorNames gguf = VisionTensorNames.MMPROJ;
        Set<String[]> pairs = new LinkedHashSet<>();
        pairs.add(new String[] {hf.patchEmbedding(), gguf.patchEmbedding()});
        pairs.add(new String[] {hf.classEmbedding(), gguf.classEmbedding()});
        pairs.add(new String[] {hf.positionalEmbedding(), gguf.positionalEmbedding()});
        for (String part : new String[] {"weight", "bias"}) {
            pairs.add(new String[] {hf.preNorm(part), gguf.preNorm(part)});
            pairs.add(new String[] {hf.postNorm(part), gguf.postNorm(part)});
            for (int l = 0; l < g.layers(); l++) {
                for (LayerTensor lt : LayerTensor.values()) {
                    pairs.add(new String[] {hf.layer(l, lt, part), gguf.layer(l, lt, part)});
                }
            }
            pairs.add(new String[] {hf.adapter(1, part), gguf.adapter(1, part)});
            pairs.add(new String[] {hf.adapter(2, part), gguf.adapter(2, part)});
            pairs.add(new String[] {hf.projector(part), gguf.projector(part)});
        }
        List<Planned> planned = new ArrayList<>();
        Set<String> covered = new TreeSet<>();
        for (String[] pair : pairs) {
            if (!folder.contains(pair[0])) {
                continue; // optional biases; required tensors were checked by loading the encoder
            }
            covered.add(pair[0]);
            Tensor t = folder.tensor(pair[0]);
            planned.add(new Planned(pair[0], pair[1], storageType(pair[1], t, weightType)));
        }
        for (String name : folder.tensorNames()) {
            if ((name.startsWith("vision_model.") || name.startsWith("multi_modal_projector.")) && !covered.contains(name)) {
                throw new ModelFormatException(folder.dir() + ": vision tensor '" + name
                        + "' has no place in a Llama 4 mmproj file");
            }
        }
        return planned;
    }

    /** The llama.cpp converter's choice of storage type (see the class comment). */
    private static GgmlType storageType(String ggufName, Tensor t, GgmlType weightType) {
        boolean vector = t.shape().length <= 1;
        if (vector || !ggufName.endsWith(".weight") || ggufName.equals(VisionTensorNames.MMPROJ.positionalEmbedding())) {
            return GgmlType.F32;
        }
        if (ggufName.equals(VisionTensorNames.MMPROJ.patchEmbedding())) {
            return weightType == GgmlType.F16 ? GgmlType.F16 : GgmlType.F32;
        }
        if (t.rowLength() % weightType.blockSize() != 0) {
            return GgmlType.F16;
        }
        return weightType;
    }
}
