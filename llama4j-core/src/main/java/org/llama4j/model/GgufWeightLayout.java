package org.llama4j.model;

import java.util.ArrayList;
import java.util.List;
import org.llama4j.kernel.LinearMap;
import org.llama4j.model.Llama4Weights.Block;
import org.llama4j.model.Llama4Weights.FeedForward;
import org.llama4j.model.Llama4Weights.MixtureOfExperts;
import org.llama4j.model.Llama4Weights.SwiGlu;
import org.llama4j.tensor.Tensor;

/**
 * Where the weights of a llama.cpp {@code llama4} or {@code llama} (dense Llama 3) GGUF live. Every matrix, the
 * expert stacks included, is stored one row per output (ggml {@code ne} below, row length first):
 * {@code ffn_gate_exps}/{@code ffn_up_exps} [D, F, E] (expert e = rows {@code e·F ..}), {@code ffn_down_exps}
 * [F, D, E] (rows {@code e·D ..}). Q/K rows are unpermuted for both architectures (rope type NORM = Meta's
 * adjacent pairs; llama.cpp's converter undoes HF's Llama 3 permutation).
 *
 * <p>A {@code llama} GGUF is the all-dense case ({@code ffn_gate/up/down} in every block) and usually has no
 * {@code output.weight}: like llama.cpp, the output head is then {@code token_embd} (tied embeddings).
 */
public final class GgufWeightLayout {
    private GgufWeightLayout() {
    }

    public static Llama4Weights load(TensorLookup tensors, Llama4Config c) {
        long d = c.hiddenSize();
        long v = c.vocabSize();
        Tensor embeddings = tensors.require("token_embd.weight", d, v);
        Tensor head = tensors.optional("output.weight", d, v).orElse(embeddings);
        float[] finalNorm = tensors.vector("output_norm.weight", d);

        int qWidth = c.headCount() * c.headDim();
        int kvWidth = c.kvHeadCount() * c.headDim();
        List<Block> blocks = new ArrayList<>();
        for (int l = 0; l < c.layerCount(); l++) {
            String p = "blk." + l + ".";
            LinearMap wq = linear(tensors, p + "attn_q.weight", c.hiddenSize(), qWidth);
            LinearMap wk = linear(tensors, p + "attn_k.weight", c.hiddenSize(), kvWidth);
            LinearMap wv = linear(tensors, p + "attn_v.weight", c.hiddenSize(), kvWidth);
            LinearMap wo = linear(tensors, p + "attn_output.weight", qWidth, c.hiddenSize());
            FeedForward ffn = c.isMoeLayer(l) ? experts(tensors, p, c)
                    : swiGlu(tensors, p, "", c.hiddenSize(), c.denseFfnWidth());
            blocks.add(new Block(tensors.vector(p + "attn_norm.weight", d), wq, wk, wv, wo,
                    tensors.vector(p + "ffn_norm.weight", d), ffn));
        }
        return new Llama4Weights(embeddings, finalNorm, LinearMap.rowsAreOutputs(head, 0, c.hiddenSize(), c.vocabSize()),
                blocks);
    }

    private static MixtureOfExperts experts(TensorLookup tensors, String p, Llama4Config c) {
        int d = c.hiddenSize();
        int e = c.expertCount();
        int width = c.expertFfnWidth();
        LinearMap router = linear(tensors, p + "ffn_gate_inp.weight", d, e);
        Tensor gate = tensors.require(p + "ffn_gate_exps.weight", d, width, e);
        Tensor up = tensors.require(p + "ffn_up_exps.weight", d, width, e);
        Tensor down = tensors.require(p + "ffn_down_exps.weight", width, d, e);
        List<SwiGlu> experts = new ArrayList<>();
        for (int x = 0; x < e; x++) {
            experts.add(new SwiGlu(
                    LinearMap.stacked(LinearMap.rowsAreOutputs(gate, (long) x * width, d, width),
                            LinearMap.rowsAreOutputs(up, (long) x * width, d, width)),
                    LinearMap.rowsAreOutputs(down, (long) x * d, width, d)));
        }
        return new MixtureOfExperts(router, experts, swiGlu(tensors, p, "_shexp", d, width), c.expertsPerToken());
    }

    private static SwiGlu swiGlu(TensorLookup tensors, String p, String suffix, int d, int width) {
        return new SwiGlu(LinearMap.stacked(linear(tensors, p + "ffn_gate" + suffix + ".weight", d, width),
                linear(tensors, p + "ffn_up" + suffix + ".weight", d, width)),
                linear(tensors, p + "ffn_down" + suffix + ".weight", width, d));
    }

    private static LinearMap linear(TensorLookup tensors, String name, int in, int out) {
        return LinearMap.rowsAreOutputs(tensors.require(name, in, out), 0, in, out);
    }
}
