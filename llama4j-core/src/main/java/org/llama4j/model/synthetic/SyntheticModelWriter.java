package org.llama4j.model.synthetic;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.llama4j.format.gguf.GgufWriter;
import org.llama4j.tensor.BlockCodec;
import org.llama4j.tensor.BlockCodecs;
import org.llama4j.tensor.GgmlType;

/**
 * Writes a random-weight Llama 4 text model as a GGUF that llama.cpp loads: arch {@code llama4}, the tensor names,
 * shapes and metadata keys of llama.cpp's converter, a {@link SyntheticTokenizer} vocabulary and the official chat
 * template, tensor types from a {@link QuantRecipe}.
 *
 * <p>Weights are drawn like the llama4-tiny fixtures: normal, linear weights scaled by {@code 1/√fan_in}, norms
 * {@code 1 + 0.1·N(0,1)}, embeddings {@code N(0,1)}, all rounded to bfloat16; deterministic per seed
 * ({@link WeightRandom}). The model is never in memory: each tensor is generated and quantized slab by slab
 * (a few million values, in parallel on {@link #threads} threads) while the previous slab is being written, so a
 * multi-GB model needs well under a GB of heap.
 */
public final class SyntheticModelWriter {

    /** How a tensor's values are drawn. */
    public enum Init {
        /** {@code N(0,1)}. */
        EMBEDDING,
        /** {@code N(0,1)/√fan_in}, fan_in = the row length (ggml's {@code ne[0]} is a linear layer's input). */
        LINEAR,
        /** {@code 1 + 0.1·N(0,1)}. */
        NORM,
        /** llama.cpp's llama3 RoPE frequency divisors, not random. */
        ROPE_FACTORS
    }

    /** One tensor of the file: name, ggml-order shape, storage type and how its values are drawn. */
    public record PlannedTensor(String name, long[] shape, GgmlType type, Init init) {
        public PlannedTensor {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public int rowLength() {
            return Math.toIntExact(shape[0]);
        }

        public long rows() {
            long rows = 1;
            for (int i = 1; i < shape.length; i++) {
                rows *= shape[i];
            }
            return rows;
        }

        public long byteSize() {
            return type.byteSize(rows() * shape[0]);
        }

        @Override
        public String toString() {
            return name + " " + type + " " + Arrays.toString(shape);
        }
    }

    /** Progress callback, called on the writing thread after each tensor. */
    @FunctionalInterface
    public interface ProgressListener {
        void tensorWritten(PlannedTensor tensor, int index, int count, long bytesDone, long bytesTotal);
    }

    public static final String ARCH = "llama4";
    static final String CHAT_TEMPLATE_RESOURCE = "llama4-chat-template.jinja";
    /** Values per slab: 16 MB of floats, enough work for every thread and small enough for any heap. */
    private static final int SLAB_VALUES = 1 << 22;
    /** Values per parallel task within a slab. */
    private static final int TASK_VALUES = 1 << 16;

    private final SyntheticModelConfig config;
    private final QuantRecipe recipe;
    private final long seed;
    private final List<PlannedTensor> tensors;
    private int threads = Runtime.getRuntime().availableProcessors();
    private ProgressListener progress = (t, i, n, done, total) -> {
    };

    public SyntheticModelWriter(SyntheticModelConfig config, QuantRecipe.FileType fileType, long seed) {
        this.config = Objects.requireNonNull(config, "config");
        this.recipe = new QuantRecipe(Objects.requireNonNull(fileType, "fileType"), config);
        this.seed = seed;
        // the tokenizer's size rules are checked up front, before anything is generated
        if (config.vocabSize() < SyntheticTokenizer.MIN_VOCAB_SIZE) {
            throw new IllegalArgumentException("vocab_size " + config.vocabSize() + " is too small: a Llama 4 "
                    + "tokenizer needs at least " + SyntheticTokenizer.MIN_VOCAB_SIZE + " tokens");
        }
        this.tensors = plan();
    }

    /** Generation threads (default: all processors). */
    public SyntheticModelWriter threads(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("threads " + count + " must be at least 1");
        }
        this.threads = count;
        return this;
    }

    public SyntheticModelWriter progress(ProgressListener listener) {
        this.progress = Objects.requireNonNull(listener, "listener");
        return this;
    }

    public SyntheticModelConfig config() {
        return config;
    }

    public QuantRecipe recipe() {
        return recipe;
    }

    /** The tensors in file order, with the type the recipe gives each. */
    public List<PlannedTensor> tensors() {
        return tensors;
    }

    /** Bytes of tensor data (without header and padding). */
    public long tensorDataBytes() {
        return tensors.stream().mapToLong(PlannedTensor::byteSize).sum();
    }

    private List<PlannedTensor> plan() {
        SyntheticModelConfig c = config;
        long d = c.hiddenSize();
        long v = c.vocabSize();
        long qDim = (long) c.headCount() * c.headDim();
        long kvDim = (long) c.kvHeadCount() * c.headDim();
        long fe = c.expertFfnWidth();
        long e = c.expertCount();
        List<PlannedTensor> out = new ArrayList<>();
        // same order as llama.cpp's converter writes them (and the fixture GGUFs)
        add(out, "token_embd.weight", Init.EMBEDDING, d, v);
        add(out, "output_norm.weight", Init.NORM, d);
        add(out, "output.weight", Init.LINEAR, d, v);
        if (c.ropeScaling() != null) {
            add(out, "rope_freqs.weight", Init.ROPE_FACTORS, c.headDim() / 2);
        }
        for (int l = 0; l < c.layerCount(); l++) {
            String p = "blk." + l + ".";
            add(out, p + "attn_norm.weight", Init.NORM, d);
            add(out, p + "attn_q.weight", Init.LINEAR, d, qDim);
            add(out, p + "attn_k.weight", Init.LINEAR, d, kvDim);
            add(out, p + "attn_v.weight", Init.LINEAR, d, kvDim);
            add(out, p + "attn_output.weight", Init.LINEAR, qDim, d);
            add(out, p + "ffn_norm.weight", Init.NORM, d);
            if (c.isMoeLayer(l)) {
                add(out, p + "ffn_gate_inp.weight", Init.LINEAR, d, e);
                add(out, p + "ffn_gate_exps.weight", Init.LINEAR, d, fe, e);
                add(out, p + "ffn_up_exps.weight", Init.LINEAR, d, fe, e);
                add(out, p + "ffn_down_exps.weight", Init.LINEAR, fe, d, e);
                add(out, p + "ffn_gate_shexp.weight", Init.LINEAR, d, fe);
                add(out, p + "ffn_up_shexp.weight", Init.LINEAR, d, fe);
                add(out, p + "ffn_down_shexp.weight", Init.LINEAR, fe, d);
            } else {
                long fd = c.denseFfnWidth();
                add(out, p + "ffn_gate.weight", Init.LINEAR, d, fd);
                add(out, p + "ffn_up.weight", Init.LINEAR, d, fd);
                add(out, p + "ffn_down.weight", Init.LINEAR, fd, d);
            }
        }
        return List.copyOf(out);
    }

    private void add(List<PlannedTensor> out, String name, Init init, long... shape) {
        GgmlType type;
        try {
            type = recipe.typeFor(name, shape);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("cannot store " + name + " " + Arrays.toString(shape) + " as "
                    + recipe.fileType().cliName() + ": " + ex.getMessage(), ex);
        }
        out.add(new PlannedTensor(name, shape, type, init));
    }

    /** Writes the GGUF atomically to {@code path}. */
    public void write(Path path) throws IOException {
        SyntheticTokenizer tokenizer = SyntheticTokenizer.build(config.vocabSize());
        GgufWriter w = new GgufWriter();
        putMetadata(w, tokenizer);
        long total = tensorDataBytes();
        long[] done = {0};
        int maxRowLength = tensors.stream().mapToInt(PlannedTensor::rowLength).max().orElse(1);
        int slabValuesMax = Math.max(SLAB_VALUES, maxRowLength);
        ForkJoinPool pool = new ForkJoinPool(threads);
        try (Arena arena = Arena.ofShared()) {
            Slab[] slabs = {new Slab(arena, slabValuesMax), new Slab(arena, slabValuesMax)};
            for (int i = 0; i < tensors.size(); i++) {
                PlannedTensor t = tensors.get(i);
                int index = i;
                w.addTensor(t.name(), t.type(), t.shape(), sink -> {
                    streamTensor(t, sink, slabs, pool);
                    done[0] += t.byteSize();
                    progress.tensorWritten(t, index, tensors.size(), done[0], total);
                });
            }
            w.write(path);
        } finally {
            pool.shutdownNow();
        }
    }

    private void putMetadata(GgufWriter w, SyntheticTokenizer tok) {
        SyntheticModelConfig c = config;
        String a = ARCH + ".";
        w.putString("general.architecture", ARCH);
        w.putString("general.name", c.name());
        w.putUInt32("general.file_type", recipe.fileType().llamaFtype());
        if (recipe.fileType().isQuantized()) {
            w.putUInt32("general.quantization_version", 2);
        }
        w.putUInt32(a + "vocab_size", c.vocabSize());
        w.putUInt32(a + "context_length", c.contextLength());
        w.putUInt32(a + "embedding_length", c.hiddenSize());
        w.putUInt32(a + "block_count", c.layerCount());
        if (c.denseFfnWidth() > 0) {
            // the converter swaps HF's names: feed_forward_length is the DENSE width (intermediate_size_mlp)
            w.putUInt32(a + "feed_forward_length", c.denseFfnWidth());
        }
        w.putUInt32(a + "attention.head_count", c.headCount());
        w.putUInt32(a + "attention.head_count_kv", c.kvHeadCount());
        w.putFloat32(a + "rope.freq_base", c.ropeTheta());
        w.putFloat32(a + "attention.layer_norm_rms_epsilon", c.rmsNormEps());
        w.putUInt32(a + "rope.dimension_count", c.headDim());
        w.putUInt32(a + "attention.key_length", c.headDim());
        w.putUInt32(a + "attention.value_length", c.headDim());
        w.putUInt32(a + "expert_count", c.expertCount());
        w.putUInt32(a + "expert_used_count", c.expertsPerToken());
        // ... and expert_feed_forward_length is the EXPERT width (HF intermediate_size)
        w.putUInt32(a + "expert_feed_forward_length", c.expertFfnWidth());
        w.putUInt32(a + "interleave_moe_layer_step", c.interleaveMoeLayerStep());
        w.putUInt32(a + "attention.sliding_window", c.attentionChunkSize());
        // llama.cpp's key names for attention temperature tuning; a scale of 0 switches the tuning off
        w.putUInt32(a + "attention.temperature_length", c.floorScale());
        w.putFloat32(a + "attention.temperature_scale", c.attnTemperatureTuning() ? c.attnScale() : 0f);

        w.putString("tokenizer.ggml.model", "gpt2");
        w.putString("tokenizer.ggml.pre", "llama4");
        w.putStringArray("tokenizer.ggml.tokens", tok.tokens());
        w.putInt32Array("tokenizer.ggml.token_type", tok.tokenTypes());
        w.putStringArray("tokenizer.ggml.merges", tok.merges());
        w.putUInt32("tokenizer.ggml.bos_token_id", tok.bosId());
        w.putUInt32("tokenizer.ggml.eos_token_id", tok.eosId());
        w.putUInt32("tokenizer.ggml.eot_token_id", tok.eotId());
        w.putUInt32("tokenizer.ggml.eom_token_id", tok.eomId());
        w.putUInt32("tokenizer.ggml.padding_token_id", tok.padId());
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putString("tokenizer.chat_template", chatTemplate());
    }

    /** The official Llama 4 instruct chat template (from transformers, Apache-2.0; see the NOTICE beside it). */
    public static String chatTemplate() {
        try (InputStream in = SyntheticModelWriter.class.getResourceAsStream(CHAT_TEMPLATE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + CHAT_TEMPLATE_RESOURCE + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A reusable buffer pair: generated floats and their encoded bytes. */
    private static final class Slab {
        final float[] values;
        final MemorySegment encoded;

        Slab(Arena arena, int maxValues) {
            values = new float[maxValues];
            // F32 is the widest encoding: 4 bytes per value
            encoded = arena.allocate((long) maxValues * Float.BYTES, 64);
        }
    }

    /**
     * Generates and encodes the tensor slab by slab; slab k+1 is computed on the pool while slab k is written.
     */
    private void streamTensor(PlannedTensor t, GgufWriter.Sink sink, Slab[] slabs, ForkJoinPool pool)
            throws IOException {
        int rowLength = t.rowLength();
        long rows = t.rows();
        long rowBytes = t.type().byteSize(rowLength);
        int rowsPerSlab = Math.max(1, slabs[0].values.length / rowLength);
        long tensorSeed = WeightRandom.tensorSeed(seed, t.name());
        float[] ropeFactors = t.init() == Init.ROPE_FACTORS ? config.ropeFrequencyFactors() : null;
        BlockCodec codec = BlockCodecs.of(t.type());
        int slabCount = Math.toIntExact((rows + rowsPerSlab - 1) / rowsPerSlab);
        Future<?> pending = pool.submit(() -> fillSlab(t, codec, slabs[0], 0, Math.min(rowsPerSlab, rows),
                rowLength, rowBytes, tensorSeed, ropeFactors));
        for (int k = 0; k < slabCount; k++) {
            long firstRow = (long) k * rowsPerSlab;
            int slabRows = (int) Math.min(rowsPerSlab, rows - firstRow);
            await(pending, t);
            Slab current = slabs[k & 1];
            if (k + 1 < slabCount) {
                Slab next = slabs[(k + 1) & 1];
                long nextFirst = firstRow + rowsPerSlab;
                int nextRows = (int) Math.min(rowsPerSlab, rows - nextFirst);
                pending = pool.submit(() -> fillSlab(t, codec, next, nextFirst, nextRows, rowLength, rowBytes,
                        tensorSeed, ropeFactors));
            }
            sink.write(current.encoded.asSlice(0, slabRows * rowBytes));
        }
    }

    private static void await(Future<?> pending, PlannedTensor t) throws IOException {
        try {
            pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while generating " + t.name(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("generating " + t.name() + " failed: " + e.getCause(), e.getCause());
        }
    }

    /** Draws and encodes rows {@code [firstRow, firstRow + count)} into {@code slab}, in parallel tasks. */
    private static void fillSlab(PlannedTensor t, BlockCodec codec, Slab slab, long firstRow, long count,
                                 int rowLength, long rowBytes, long tensorSeed, float[] ropeFactors) {
        int rowsPerTask = Math.max(1, TASK_VALUES / rowLength);
        int tasks = (int) ((count + rowsPerTask - 1) / rowsPerTask);
        IntStream.range(0, tasks).parallel().forEach(task -> {
            int from = task * rowsPerTask;
            int to = (int) Math.min(count, (long) from + rowsPerTask);
            for (int r = from; r < to; r++) {
                int offset = r * rowLength;
                switch (t.init()) {
                    case EMBEDDING -> WeightRandom.fillRow(tensorSeed, firstRow + r, slab.values, offset, rowLength, 1f, 0f);
                    case LINEAR -> WeightRandom.fillRow(tensorSeed, firstRow + r, slab.values, offset, rowLength,
                            (float) (1 / Math.sqrt(rowLength)), 0f);
                    case NORM -> WeightRandom.fillRow(tensorSeed, firstRow + r, slab.values, offset, rowLength, 0.1f, 1f);
                    case ROPE_FACTORS -> System.arraycopy(ropeFactors, 0, slab.values, offset, rowLength);
                }
                codec.encode(slab.values, offset, slab.encoded, r * rowBytes, rowLength);
            }
        });
    }
}
