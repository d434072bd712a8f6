package org.llama4j.model;

import java.util.ArrayList;
import java.util.List;
import org.llama4j.kernel.LinearMap;
import org.llama4j.model.Llama4Weights.Block;
import org.llama4j.model.Llama4Weights.FeedForward;
import org.llama4j.model.Llama4Weights.MixtureOfExperts;
import org.llama4j.model.Llama4Weights.SwiGlu;
import org.llama4j.tensor.RemappedRowsTensor;
import org.llama4j.tensor.Tensor;

/**
 * Where the weights of an HF Llama 4 checkpoint live (transformers' names, {@code language_model.} prefix for
 * {@code Llama4ForConditionalGeneration}). Shapes below are ggml order (row length first), i.e. the reverse of
 * the PyTorch shapes. Linear weights are {@code nn.Linear} style (one row per output); the fused expert tensors
 * are input-major ({@code x @ W}, one row per input):
 * <ul>
 *   <li>{@code experts.gate_up_proj} PyTorch [E, D, 2F]: row {@code e·D + i} holds gate ‖ up for input i;</li>
 *   <li>{@code experts.down_proj} PyTorch [E, F, D]: row {@code e·F + j} holds the outputs for hidden unit j.</li>
 * </ul>
 * Llama 4 Q/K rows are in Meta's order (its converter does not permute them for RoPE).
 *
 * <p>Dense Llama 3 ({@code LlamaForCausalLM}) differs in two ways: the FFN lives under {@code mlp.} (not
 * {@code feed_forward.}), and transformers' converter permuted the Q/K rows of every head from Meta's interleaved
 * pairs (2i, 2i+1) to "even rows, then odd rows", so that its rotate-half RoPE (pairs (i, i+headDim/2)) computes
 * the same thing. The engine has one RoPE, Meta's adjacent pairs, so Q/K are read through a view that undoes the
 * permutation ({@link #interleavedRopeRows}); no weights are copied.
 */
public final class HfWeightLayout {
    private HfWeightLayout() {
    }

    public static Llama4Weights load(TensorLookup tensors, Llama4Config c) {
        String root = tensors.find("language_model.model.embed_tokens.weight").isPresent() ? "language_model." : "";
        String m = root + "model.";
        long d = c.hiddenSize();
        long v = c.vocabSize();
        Tensor embeddings = tensors.require(m + "embed_tokens.weight", d, v);
        Tensor head = tensors.optional(root + "lm_head.weight", d, v).orElse(embeddings);
        float[] finalNorm = tensors.vector(m + "norm.weight", d);

        int qWidth = c.headCount() * c.headDim();
        int kvWidth = c.kvHeadCount() * c.headDim();
        List<Block> blocks = new ArrayList<>();
        for (int l = 0; l < c.layerCount(); l++) {
            String p = m + "layers." + l + ".";
            String a = p + "self_attn.";
            Tensor q = tensors.require(a + "q_proj.weight", d, qWidth);
            Tensor k = tensors.require(a + "k_proj.weight", d, kvWidth);
            if (c.architecture() == Architecture.LLAMA3) {
                q = interleavedRopeRows(q, c.headDim());
                k = interleavedRopeRows(k, c.headDim());
            }
            LinearMap wq = LinearMap.rowsAreOutputs(q, 0, c.hiddenSize(), qWidth);
            LinearMap wk = LinearMap.rowsAreOutputs(k, 0, c.hiddenSize(), kvWidth);
            LinearMap wv = linear(tensors, a + "v_proj.weight", c.hiddenSize(), kvWidth);
            LinearMap wo = linear(tensors, a + "o_proj.weight", qWidth, c.hiddenSize());
            String f = p + (c.architecture() == Architecture.LLAMA3 ? "mlp." : "feed_forward.");
            FeedForward ffn = c.isMoeLayer(l) ? experts(tensors, f, c) : swiGlu(tensors, f, c.hiddenSize(), c.denseFfnWidth());
            blocks.add(new Block(tensors.vector(p + "input_layernorm.weight", d), wq, wk, wv, wo,
                    tensors.vector(p + "post_attention_layernorm.weight", d), ffn));
        }
        return new Llama4Weights(embeddings, finalNorm, LinearMap.rowsAreOutputs(head, 0, c.hiddenSize(), c.vocabSize()),
                blocks);
    }

    /**
     * Undoes transformers' {@code permute(w, n_heads)} of a Q or K projection: within each head, Meta's row
     * {@code 2i + j} (pair i, component j) was stored as row {@code j·headDim/2 + i}. Works per head, so it
     * serves Q (query heads) and K (key/value heads) alike.
     */
    static Tensor interleavedRopeRows(Tensor rotateHalfRows, int headDim) {
        int half = headDim / 2;
        return new RemappedRowsTensor(rotateHalfRows, row -> {
            long headStart = row - row % headDim;
            int within = (int) (row % headDim);
            return headStart + (within & 1) * half + (within >> 1);
        });
    }

    private static MixtureOfExperts experts(TensorLookup tensors, String f, Llama4Config c) {
        int d = c.hiddenSize();
        int e = c.expertCount();
        int width = c.expertFfnWidth();
        LinearMap router = linear(tensors, f + "router.weight", d, e);
        Tensor gateUp = tensors.require(f + "experts.gate_up_proj", 2L * width, d, e);
        Tensor down = tensors.require(f + "experts.down_proj", d, width, e);
        List<SwiGlu> experts = new ArrayList<>();
        for (int x = 0; x < e; x++) {
            experts.add(new SwiGlu(LinearMap.rowsAreInputs(gateUp, (long) x * d, d, 2 * width),
                    LinearMap.rowsAreInputs(down, (long) x * width, width, d)));
        }
        return new MixtureOfExperts(router, experts, swiGlu(tensors, f + "shared_expert.", d, width), c.expertsPerToken());
    }

    private static SwiGlu swiGlu(TensorLookup tensors, String prefix, int d, int width) {
        return new SwiGlu(LinearMap.stacked(linear(tensors, prefix + "gate_proj.weight", d, width),
                linear(tensors, prefix + "up_proj.weight", d, width)),
                linear(tensors, prefix + "down_proj.weight", width, d));
    }

    private static LinearMap linear(TensorLookup tensors, String name, int in, int out) {
        return LinearMap.rowsAreOutputs(tensors.require(name, in, out), 0, in, out);
    }
}
