package org.llama4j.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.llama4j.kernel.LinearMap;
import org.llama4j.kernel.RopeScaling;
import org.llama4j.model.Llama4Config;
import org.llama4j.model.Llama4Model;
import org.llama4j.model.Llama4Weights;
import org.llama4j.model.Llama4Weights.Block;
import org.llama4j.model.Llama4Weights.FeedForward;
import org.llama4j.model.Llama4Weights.MixtureOfExperts;
import org.llama4j.model.Llama4Weights.SwiGlu;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.testing.TinyTokenizerFiles;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;

/**
 * A random Llama 4 (2 layers: dense RoPE layer, then a NoPE mixture-of-experts layer) whose vocabulary is the
 * tiny test tokenizer's, so a server can run on it in milliseconds per token. The weights are large enough that
 * the sampled text varies with the seed.
 */
final class TinyServerModel {
    final Tokenizer tokenizer;
    final Llama4Model model;

    private TinyServerModel(Tokenizer tokenizer, Llama4Model model) {
        this.tokenizer = tokenizer;
        this.model = model;
    }

    static TinyServerModel create(Path folder, int contextLength) throws IOException {
        Tokenizer tokenizer = TokenizerLoader.load(TinyTokenizerFiles.writeTokenizerJson(folder));
        int vocab = tokenizer.vocabularySize();
        Llama4Config config = new Llama4Config(org.llama4j.model.Architecture.LLAMA4, vocab, 32, 2, 4, 2, 8, 4, 1, 16, 24, List.of(1), List.of(1), 64,
                true, true, 16f, 0.1f, 10000f, new RopeScaling(8f, 1f, 4f, 64), 1e-5f, contextLength,
                tokenizer.bosId(), List.of(tokenizer.eotId()), -1);
        Random r = new Random(20250405L);
        int d = config.hiddenSize();
        int q = config.headCount() * config.headDim();
        int kv = config.kvHeadCount() * config.headDim();
        List<Block> blocks = new ArrayList<>();
        for (int layer = 0; layer < config.layerCount(); layer++) {
            SwiGlu dense = swiGlu(r, d, config.isMoeLayer(layer) ? config.expertFfnWidth() : config.denseFfnWidth());
            FeedForward ffn = dense;
            if (config.isMoeLayer(layer)) {
                List<SwiGlu> experts = new ArrayList<>();
                for (int e = 0; e < config.expertCount(); e++) {
                    experts.add(swiGlu(r, d, config.expertFfnWidth()));
                }
                ffn = new MixtureOfExperts(linear(r, "router", config.expertCount(), d, 3f), experts, dense,
                        config.expertsPerToken());
            }
            blocks.add(new Block(norm(r, d), linear(r, "q", q, d, 1f), linear(r, "k", kv, d, 1f),
                    linear(r, "v", kv, d, 1f), linear(r, "o", d, q, 1f), norm(r, d), ffn));
        }
        float[] embeddings = gaussian(r, vocab * d, 1f);
        Llama4Weights weights = new Llama4Weights(BlockTensor.ofFloats("embd", embeddings, d, vocab), norm(r, d),
                linear(r, "output", vocab, d, 4f), blocks);
        return new TinyServerModel(tokenizer, new Llama4Model(config, weights));
    }

    private static SwiGlu swiGlu(Random r, int d, int f) {
        return new SwiGlu(LinearMap.stacked(linear(r, "gate", f, d, 1f), linear(r, "up", f, d, 1f)),
                linear(r, "down", d, f, 1f));
    }

    private static LinearMap linear(Random r, String name, int out, int in, float gain) {
        float[] w = gaussian(r, out * in, (float) (gain / Math.sqrt(in)));
        return LinearMap.rowsAreOutputs(BlockTensor.ofFloats(name, w, in, out), 0, in, out);
    }

    private static float[] gaussian(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * scale;
        }
        return v;
    }

    private static float[] norm(Random r, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = 1f + 0.1f * (float) r.nextGaussian();
        }
        return w;
    }
}
