package org.llama4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.llama4j.kernel.LinearMap;
import org.llama4j.kernel.RopeScaling;
import org.llama4j.model.Llama4Weights.Block;
import org.llama4j.model.Llama4Weights.FeedForward;
import org.llama4j.model.Llama4Weights.MixtureOfExperts;
import org.llama4j.model.Llama4Weights.SwiGlu;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.Tensor;

/**
 * A small random Llama 4 held as plain matrices ({@code [out][in]}, like PyTorch's nn.Linear), from which the
 * engine's weights can be built in either checkpoint layout and which {@link NaiveLlama4} evaluates directly.
 */
final class RandomLlama4 {
    final Llama4Config config;
    final float[][] embeddings;      // [V][D]
    final float[][] head;            // [V][D]
    final float[] finalNorm;
    final List<Layer> layers = new ArrayList<>();

    static final class Layer {
        float[] attnNorm;
        float[] ffnNorm;
        float[][] wq;
        float[][] wk;
        float[][] wv;
        float[][] wo;
        float[][] router;                 // [E][D], null for dense layers
        float[][][] expertGate;           // [E][F][D]
        float[][][] expertUp;
        float[][][] expertDown;           // [E][D][F]
        float[][] gate;                   // shared expert or dense FFN: [F][D]
        float[][] up;
        float[][] down;                   // [D][F]
    }

    RandomLlama4(Llama4Config c, long seed) {
        this(c, seed, false);
    }

    /** With {@code tiedEmbeddings} the output head is the embedding matrix itself (Llama 3.2 1B, Llama Guard 3 1B). */
    RandomLlama4(Llama4Config c, long seed, boolean tiedEmbeddings) {
        this.config = c;
        Random r = new Random(seed);
        int d = c.hiddenSize();
        embeddings = matrix(r, c.vocabSize(), d, 1f);
        float[][] untied = matrix(r, c.vocabSize(), d, (float) (1 / Math.sqrt(d)));
        head = tiedEmbeddings ? embeddings : untied;
        finalNorm = norm(r, d);
        int q = c.headCount() * c.headDim();
        int kv = c.kvHeadCount() * c.headDim();
        for (int l = 0; l < c.layerCount(); l++) {
            Layer layer = new Layer();
            layer.attnNorm = norm(r, d);
            layer.ffnNorm = norm(r, d);
            layer.wq = linear(r, q, d);
            layer.wk = linear(r, kv, d);
            layer.wv = linear(r, kv, d);
            layer.wo = linear(r, d, q);
            int f;
            if (c.isMoeLayer(l)) {
                f = c.expertFfnWidth();
                int e = c.expertCount();
                layer.router = linear(r, e, d);
                // Spread the router scores so that several experts are actually used.
                for (float[] row : layer.router) {
                    for (int i = 0; i < d; i++) {
                        row[i] *= 3f;
                    }
                }
                layer.expertGate = new float[e][][];
                layer.expertUp = new float[e][][];
                layer.expertDown = new float[e][][];
                for (int x = 0; x < e; x++) {
                    layer.expertGate[x] = linear(r, f, d);
                    layer.expertUp[x] = linear(r, f, d);
                    layer.expertDown[x] = linear(r, d, f);
                }
            } else {
                f = c.denseFfnWidth();
            }
            layer.gate = linear(r, f, d);
            layer.up = linear(r, f, d);
            layer.down = linear(r, d, f);
            layers.add(layer);
        }
    }

    /** A config with small chunks and an early temperature step, so short sequences exercise everything. */
    static Llama4Config config(int layers, int moeStep, int experts, int topK, int chunk, float floorScale,
                               boolean qkNorm, int contextLength) {
        return new Llama4Config(Architecture.LLAMA4, 61, 32, layers, 4, 2, 8, experts, topK, 16, 24,
                Llama4Config.interleavedMoeLayers(layers, moeStep), Llama4Config.periodicNoRopeLayers(layers, 4),
                chunk, qkNorm, true, floorScale, 0.3f, 10000f, new RopeScaling(8f, 1f, 4f, 64), 1e-5f,
                contextLength, 1, List.of(2), -1);
    }

    /**
     * A dense Llama 3 config: head_dim 16 with theta 5e5 and Llama 3.2's scaling (factor 32, original context
     * 8192) puts the frequencies in all three bands of the llama3 rule, as in the real models.
     */
    static Llama4Config llama3Config(int layers, int contextLength) {
        return Llama4Config.llama3(61, 32, layers, 4, 2, 16, 48, 500000f, new RopeScaling(32f, 1f, 4f, 8192), 1e-5f,
                contextLength, 1, List.of(2), -1);
    }

    /** Weights laid out as in a GGUF: every matrix one row per output, expert stacks [D, F, E] / [F, D, E]. */
    Llama4Weights ggufLayout() {
        Llama4Config c = config;
        int d = c.hiddenSize();
        List<Block> blocks = new ArrayList<>();
        for (int l = 0; l < c.layerCount(); l++) {
            Layer layer = layers.get(l);
            FeedForward ffn;
            SwiGlu plain = new SwiGlu(LinearMap.stacked(rowsOut("gate", layer.gate), rowsOut("up", layer.up)),
                    rowsOut("down", layer.down));
            if (layer.router != null) {
                int e = c.expertCount();
                int f = c.expertFfnWidth();
                Tensor gate = tensor("gate_exps", concat(layer.expertGate), d, f, e);
                Tensor up = tensor("up_exps", concat(layer.expertUp), d, f, e);
                Tensor down = tensor("down_exps", concat(layer.expertDown), f, d, e);
                List<SwiGlu> experts = new ArrayList<>();
                for (int x = 0; x < e; x++) {
                    experts.add(new SwiGlu(LinearMap.stacked(LinearMap.rowsAreOutputs(gate, (long) x * f, d, f),
                            LinearMap.rowsAreOutputs(up, (long) x * f, d, f)),
                            LinearMap.rowsAreOutputs(down, (long) x * d, f, d)));
                }
                ffn = new MixtureOfExperts(rowsOut("router", layer.router), experts, plain, c.expertsPerToken());
            } else {
                ffn = plain;
            }
            blocks.add(block(layer, ffn));
        }
        return new Llama4Weights(tensor("embd", concat(embeddings), d, c.vocabSize()), finalNorm,
                rowsOut("output", head), blocks);
    }

    /** Weights laid out as in an HF checkpoint: experts input-major, gate and up fused [E, D, 2F]. */
    Llama4Weights hfLayout() {
        Llama4Config c = config;
        int d = c.hiddenSize();
        Llama4Weights gguf = ggufLayout();
        List<Block> blocks = new ArrayList<>();
        for (int l = 0; l < c.layerCount(); l++) {
            Layer layer = layers.get(l);
            Block g = gguf.blocks().get(l);
            if (layer.router == null) {
                blocks.add(g);
                continue;
            }
            int e = c.expertCount();
            int f = c.expertFfnWidth();
            float[] gateUp = new float[e * d * 2 * f];
            float[] down = new float[e * f * d];
            for (int x = 0; x < e; x++) {
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < f; j++) {
                        gateUp[(x * d + i) * 2 * f + j] = layer.expertGate[x][j][i];
                        gateUp[(x * d + i) * 2 * f + f + j] = layer.expertUp[x][j][i];
                        down[(x * f + j) * d + i] = layer.expertDown[x][i][j];
                    }
                }
            }
            Tensor gu = tensor("gate_up_proj", gateUp, 2L * f, d, e);
            Tensor dn = tensor("down_proj", down, d, f, e);
            List<SwiGlu> experts = new ArrayList<>();
            for (int x = 0; x < e; x++) {
                experts.add(new SwiGlu(LinearMap.rowsAreInputs(gu, (long) x * d, d, 2 * f),
                        LinearMap.rowsAreInputs(dn, (long) x * f, f, d)));
            }
            MixtureOfExperts m = (MixtureOfExperts) g.feedForward();
            blocks.add(new Block(g.attentionNorm(), g.query(), g.key(), g.value(), g.output(), g.ffnNorm(),
                    new MixtureOfExperts(m.router(), experts, m.sharedExpert(), m.expertsPerToken())));
        }
        return new Llama4Weights(gguf.tokenEmbeddings(), finalNorm, gguf.outputHead(), blocks);
    }

    Llama4Model model() {
        return new Llama4Model(config, ggufLayout());
    }

    private Block block(Layer layer, FeedForward ffn) {
        return new Block(layer.attnNorm, rowsOut("q", layer.wq), rowsOut("k", layer.wk), rowsOut("v", layer.wv),
                rowsOut("o", layer.wo), layer.ffnNorm, ffn);
    }

    private static LinearMap rowsOut(String name, float[][] m) {
        return LinearMap.rowsAreOutputs(tensor(name, concat(m), m[0].length, m.length), 0, m[0].length, m.length);
    }

    private static Tensor tensor(String name, float[] values, long... shape) {
        return BlockTensor.ofFloats(name, values, shape);
    }

    private static float[] concat(float[][] m) {
        float[] out = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
        }
        return out;
    }

    private static float[] concat(float[][][] m) {
        List<float[]> rows = new ArrayList<>();
        for (float[][] a : m) {
            rows.addAll(List.of(a));
        }
        return concat(rows.toArray(float[][]::new));
    }

    private static float[][] linear(Random r, int out, int in) {
        return matrix(r, out, in, (float) (1 / Math.sqrt(in)));
    }

    private static float[][] matrix(Random r, int rows, int cols, float scale) {
        float[][] m = new float[rows][cols];
        for (float[] row : m) {
            for (int i = 0; i < cols; i++) {
                row[i] = (float) r.nextGaussian() * scale;
            }
        }
        return m;
    }

    private static float[] norm(Random r, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = 1f + 0.1f * (float) r.nextGaussian();
        }
        return w;
    }
}
