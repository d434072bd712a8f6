package org.llama4j.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.llama4j.kernel.LinearMap;
import org.llama4j.model.Llama4Weights.Block;
import org.llama4j.model.Llama4Weights.FeedForward;
import org.llama4j.model.Llama4Weights.MixtureOfExperts;
import org.llama4j.model.Llama4Weights.SwiGlu;
import org.llama4j.model.synthetic.QuantRecipe;
import org.llama4j.tensor.BlockCodec;
import org.llama4j.tensor.BlockCodecs;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.InterleavedQ4Tensor;
import org.llama4j.tensor.Tensor;

/**
 * Quantizes wired weights (usually the bf16 or FP8 views of an HF folder) into ggml block types at load time, so
 * that safetensors checkpoints run on the same quantized kernels, at the same memory and bandwidth, as a GGUF of
 * that type.
 *
 * <p>Types per tensor are those of llama.cpp's {@code llama-quantize} for the file type ({@link QuantRecipe}, which
 * names tensors the GGUF way): most matrices get the base type, with llama.cpp's per-tensor mixes (e.g. Q4_K_M's
 * Q6_K {@code attn_v}/{@code ffn_down} layers); {@code output} gets Q6_K (Q8_0 for Q8_0, or where rows are not a
 * multiple of 256); {@code token_embd} the base type; the MoE router stays as stored (llama.cpp keeps it F32, and
 * bf16/f32 are both exact); norms are float arrays already. Rows that do not fit a type's block fall back as in
 * llama.cpp.
 *
 * <p>Every matrix is quantized <em>one row per output</em>, the GGUF layout: HF's fused, input-major expert tensors
 * are transposed expert by expert, so the blocks are the ones {@code llama-quantize} produces from the converted
 * GGUF, and quantizing an HF folder at load gives the same bytes as loading the GGUF quantized with the same codecs.
 * Memory stays bounded: maps are quantized one after another, row-major ones in parallel chunks of
 * {@link #CHUNK_VALUES} floats, an input-major one through one transposed float copy of that one map (one expert's
 * gate, up or down). The encoded data lives in {@code arena}, off the Java heap.
 */
final class LoadTimeQuantizer {
    /** Floats one parallel task decodes and encodes at a time (1 MiB). */
    static final int CHUNK_VALUES = 1 << 18;

    private final QuantRecipe recipe;
    private final Arena arena;
    private final boolean interleaveQ4;

    private LoadTimeQuantizer(QuantRecipe recipe, Arena arena, boolean interleaveQ4) {
        this.recipe = recipe;
        this.arena = arena;
        this.interleaveQ4 = interleaveQ4;
    }

    /**
     * {@code weights} with every weight matrix quantized by {@code type}'s recipe into {@code arena} (a shared
     * one: it is written in parallel); with {@code interleaveQ4}, Q4_0 and Q4_K matrices are also wrapped for
     * {@link InterleavedQ4Tensor}'s integer kernel, as a GGUF's are when loaded with 8-bit activations.
     */
    static Llama4Weights quantize(Llama4Weights weights, Llama4Config c, QuantRecipe.FileType type, Arena arena,
            boolean interleaveQ4) {
        QuantRecipe recipe = new QuantRecipe(type, c.layerCount(), c.expertCount(), c.queriesPerKvHead());
        return new LoadTimeQuantizer(recipe, arena, interleaveQ4).quantize(weights, c);
    }

    private Llama4Weights quantize(Llama4Weights w, Llama4Config c) {
        int d = c.hiddenSize();
        int v = c.vocabSize();
        Tensor embeddings = w.tokenEmbeddings();
        LinearMap.RowsAreOutputs embeddingRows = new LinearMap.RowsAreOutputs(embeddings, 0, d, v);
        Tensor quantizedEmbeddings = rows("token_embd.weight", type("token_embd.weight", d, v), embeddingRows, 0, v);
        // Tied embeddings (no output.weight): llama.cpp's output head is then token_embd itself, in token_embd's type.
        boolean tied = w.outputHead() instanceof LinearMap.RowsAreOutputs head && head.tensor() == embeddings;
        LinearMap outputHead = tied ? LinearMap.rowsAreOutputs(quantizedEmbeddings, 0, d, v)
                : map("output.weight", type("output.weight", d, v), w.outputHead());

        List<Block> blocks = new ArrayList<>();
        for (int l = 0; l < w.blocks().size(); l++) {
            Block b = w.blocks().get(l);
            String p = "blk." + l + ".";
            int q = b.query().outputSize();
            int kv = b.key().outputSize();
            FeedForward ffn = switch (b.feedForward()) {
                case SwiGlu dense -> swiGlu(p, "", dense, 0);
                case MixtureOfExperts moe -> experts(p, moe);
            };
            blocks.add(new Block(b.attentionNorm(),
                    map(p + "attn_q.weight", type(p + "attn_q.weight", d, q), b.query()),
                    map(p + "attn_k.weight", type(p + "attn_k.weight", d, kv), b.key()),
                    map(p + "attn_v.weight", type(p + "attn_v.weight", d, kv), b.value()),
                    map(p + "attn_output.weight", type(p + "attn_output.weight", q, d), b.output()),
                    b.ffnNorm(), ffn));
        }
        return new Llama4Weights(quantizedEmbeddings, w.finalNorm(), outputHead, blocks);
    }

    private MixtureOfExperts experts(String p, MixtureOfExperts moe) {
        int e = moe.experts().size();
        LinearMap router = moe.router();
        GgmlType routerType = type(p + "ffn_gate_inp.weight", router.inputSize(), e);
        // llama.cpp keeps the router in F32; the stored bf16/f32 values are that exactly, so keep them as they are.
        LinearMap quantizedRouter = routerType == GgmlType.F32 ? router : map(p + "ffn_gate_inp.weight", routerType, router);
        List<SwiGlu> experts = new ArrayList<>();
        for (int x = 0; x < e; x++) {
            experts.add(swiGlu(p, "_exps", moe.experts().get(x), e));
        }
        return new MixtureOfExperts(quantizedRouter, experts, swiGlu(p, "_shexp", moe.sharedExpert(), 0),
                moe.expertsPerToken());
    }

    /**
     * A SwiGLU's gate, up and down, named {@code ffn_gate<suffix>} etc. ({@code ""} dense, {@code _shexp} shared
     * expert, {@code _exps} routed experts, whose GGUF shapes have a third dimension {@code experts}).
     */
    private SwiGlu swiGlu(String p, String suffix, SwiGlu s, int experts) {
        int d = s.gateUp().inputSize();
        int f = s.width();
        String gate = p + "ffn_gate" + suffix + ".weight";
        String up = p + "ffn_up" + suffix + ".weight";
        String down = p + "ffn_down" + suffix + ".weight";
        GgmlType gateType = type(gate, experts, d, f);
        GgmlType upType = type(up, experts, d, f);
        LinearMap gateUp;
        if (s.gateUp() instanceof LinearMap.Stacked stacked) {
            gateUp = LinearMap.stacked(map(gate, gateType, stacked.first()), map(up, upType, stacked.second()));
        } else if (gateType == upType) {
            // Fused gate ‖ up (HF experts): rows are quantized independently, so one tensor of both halves holds
            // exactly the blocks of the two separate tensors.
            gateUp = LinearMap.rowsAreOutputs(matrix(gate + "+" + up, gateType, s.gateUp(), 0, 2 * f), 0, d, 2 * f);
        } else {
            gateUp = LinearMap.stacked(LinearMap.rowsAreOutputs(matrix(gate, gateType, s.gateUp(), 0, f), 0, d, f),
                    LinearMap.rowsAreOutputs(matrix(up, upType, s.gateUp(), f, 2 * f), 0, d, f));
        }
        return new SwiGlu(gateUp, map(down, type(down, experts, f, d), s.down()));
    }

    /** The recipe's type for a matrix of {@code outputs} rows of {@code inputs}, stacked {@code experts} times. */
    private GgmlType type(String name, int experts, int inputs, int outputs) {
        long[] shape = experts > 0 ? new long[] {inputs, outputs, experts} : new long[] {inputs, outputs};
        return recipe.typeFor(name, shape);
    }

    private GgmlType type(String name, int inputs, int outputs) {
        return type(name, 0, inputs, outputs);
    }

    /** {@code m} as row-per-output tensors of {@code type} (a stacked map stays two tensors, as in a GGUF). */
    private LinearMap map(String name, GgmlType type, LinearMap m) {
        if (m instanceof LinearMap.Stacked s) {
            return LinearMap.stacked(map(name + "[0]", type, s.first()), map(name + "[1]", type, s.second()));
        }
        return LinearMap.rowsAreOutputs(matrix(name, type, m, 0, m.outputSize()), 0, m.inputSize(), m.outputSize());
    }

    /** {@link #rows}, interleaved too where asked and possible (the matrices of products, not the embeddings). */
    private Tensor matrix(String name, GgmlType type, LinearMap m, int from, int to) {
        BlockTensor t = rows(name, type, m, from, to);
        return interleaveQ4 ? InterleavedQ4Tensor.interleaveIfSupported(t, arena) : t;
    }

    /** Outputs {@code from .. to} of {@code m} (each a row of {@code m.inputSize()} weights) encoded as {@code type}. */
    private BlockTensor rows(String name, GgmlType type, LinearMap m, int from, int to) {
        int len = m.inputSize();
        int rows = to - from;
        if (len % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": rows of " + len + " values are not a multiple of the "
                    + type + " block size " + type.blockSize());
        }
        long rowBytes = type.byteSize(len);
        MemorySegment data = arena.allocate(rowBytes * rows, 64);
        BlockCodec codec = BlockCodecs.of(type);
        int chunkRows = Math.max(1, CHUNK_VALUES / len);
        int chunks = (rows + chunkRows - 1) / chunkRows;
        switch (m) {
            case LinearMap.RowsAreOutputs r -> IntStream.range(0, chunks).parallel().forEach(c -> {
                int first = c * chunkRows;
                int n = Math.min(chunkRows, rows - first);
                float[] buf = new float[n * len];
                for (int i = 0; i < n; i++) {
                    r.tensor().dequantizeRow(r.firstRow() + from + first + i, buf, i * len);
                }
                codec.encode(buf, 0, data, first * rowBytes, n * len);
            });
            case LinearMap.RowsAreInputs r -> {
                float[] transposed = transpose(r, from, to);
                IntStream.range(0, chunks).parallel().forEach(c -> {
                    int first = c * chunkRows;
                    int n = Math.min(chunkRows, rows - first);
                    codec.encode(transposed, first * len, data, first * rowBytes, n * len);
                });
            }
            case LinearMap.Stacked s -> throw new IllegalArgumentException("tensor " + name
                    + ": a stacked map is quantized part by part");
        }
        return new BlockTensor(name, type, new long[] {len, rows}, data);
    }

    /**
     * Outputs {@code from .. to} of an input-major map as rows: {@code result[(o - from)·inputs + i]} = weight of
     * input i for output o. Input rows are decoded in parallel ranges that fill disjoint columns.
     */
    private static float[] transpose(LinearMap.RowsAreInputs r, int from, int to) {
        int inputs = r.inputSize();
        int outputs = to - from;
        float[] out = new float[Math.multiplyExact(inputs, outputs)];
        int rangeRows = Math.max(1, CHUNK_VALUES / r.outputSize());
        int ranges = (inputs + rangeRows - 1) / rangeRows;
        IntStream.range(0, ranges).parallel().forEach(c -> {
            float[] row = new float[r.outputSize()];
            for (int i = c * rangeRows; i < Math.min(inputs, (c + 1) * rangeRows); i++) {
                r.tensor().dequantizeRow(r.firstRow() + i, row, 0);
                for (int o = 0; o < outputs; o++) {
                    out[o * inputs + i] = row[from + o];
                }
            }
        });
        return out;
    }
}
