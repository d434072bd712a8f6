package org.llama4j.vision;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.IntStream;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.tensor.Tensor;

/**
 * Llama 4's vision tower plus the multimodal projector, in float32 over the checkpoint's weights (Meta
 * {@code vision/encoder.py} + {@code vision/embedding.py}; HF {@code Llama4VisionModel} +
 * {@code Llama4MultiModalProjector}). One tile at a time:
 * <ol>
 * <li>unfold into p x p patches and a bias-free linear (feature = channel * p^2 + row * p + column);</li>
 * <li>the class token appended <em>last</em>, the positional embedding added row for row;</li>
 * <li>{@code layernorm_pre}, pre-LN transformer blocks with bidirectional attention and 2D RoPE (interleaved pairs;
 * the first quarter of the head's pairs turn with the patch column, the second with the row, 1-based; the class
 * token is not rotated), GELU MLP, biases everywhere;</li>
 * <li>{@code layernorm_post}, class token dropped, pixel shuffle (s x s neighbours merged into one token);</li>
 * <li>the adapter GELU(fc2(GELU(fc1 x))) and the projector into the text model's hidden size.</li>
 * </ol>
 * Every dimension comes from the weight shapes; the config is only used for what shapes cannot tell (the number
 * of heads, epsilon, RoPE theta) and is checked against them.
 */
public final class VisionEncoder {
    private static final String P = "vision_model.";

    /** The tower's dimensions. {@code shuffle} is 1 / pixel_shuffle_ratio (2 for Llama 4). */
    public record Geometry(int tileSize, int patchSize, int grid, int dim, int heads, int layers, int mlpDim,
                           int shuffle, int adapterDim, int outputDim, int textHidden, float eps, double ropeTheta) {
        /** Tokens one tile contributes to the prompt: (grid / shuffle)^2. */
        public int tokensPerTile() {
            return (grid / shuffle) * (grid / shuffle);
        }

        public int headDim() {
            return dim / heads;
        }
    }

    /** Every intermediate of one tile, for tests and debugging (shapes as in the fixture). */
    public record TileTrace(float[][] patchEmbeddings, float[][] encoderOutput, float[][] pixelShuffle,
                            float[][] adapterOutput, float[][] projected) {
    }

    private record Layer(float[] ln1W, float[] ln1B, float[] ln2W, float[] ln2B, Tensor q, float[] qB, Tensor k,
                         float[] kB, Tensor v, float[] vB, Tensor o, float[] oB, Tensor fc1, float[] fc1B, Tensor fc2,
                         float[] fc2B) {
    }

    private final Geometry g;
    private final Tensor patchEmbedding;
    private final float[] classEmbedding;
    private final float[] positional;
    private final float[] lnPreW;
    private final float[] lnPreB;
    private final float[] lnPostW;
    private final float[] lnPostB;
    private final Layer[] layers;
    private final Tensor adapterFc1;
    private final float[] adapterFc1B;
    private final Tensor adapterFc2;
    private final float[] adapterFc2B;
    private final Tensor projector;
    private final float[] projectorB;
    /** cos/sin of every token's rotation, {@code [token][pair]}. */
    private final float[][] ropeCos;
    private final float[][] ropeSin;

    private VisionEncoder(HfModelFolder f) {
        String where = f.dir() + ": vision tower: ";
        JsonNode vc = f.visionConfig().orElseThrow(() -> new ModelFormatException(
                f.dir().resolve(HfModelFolder.CONFIG) + ": no vision_config; this checkpoint has no vision tower"));
        patchEmbedding = f.tensor(P + "patch_embedding.linear.weight");
        requireRank(where, patchEmbedding, 2);
        int dim = Math.toIntExact(patchEmbedding.rowCount());
        int in = Math.toIntExact(patchEmbedding.rowLength());
        int p = (int) Math.round(Math.sqrt(in / 3.0));
        if (3 * p * p != in) {
            throw new ModelFormatException(where + patchEmbedding.name() + " has " + in
                    + " inputs per row, expected 3 * patch_size^2");
        }
        if (vc.has("patch_size") && vc.get("patch_size").asInt() != p) {
            throw new ModelFormatException(where + "vision_config.patch_size " + vc.get("patch_size")
                    + " disagrees with patch_embedding (patch " + p + ")");
        }
        positional = vector(f, where, P + "positional_embedding_vlm", -1);
        int rows = positional.length / dim;
        int grid = (int) Math.round(Math.sqrt(rows - 1));
        if (positional.length != rows * dim || grid * grid + 1 != rows) {
            throw new ModelFormatException(where + "positional_embedding_vlm has " + positional.length
                    + " values, expected (grid^2 + 1) rows of " + dim);
        }
        classEmbedding = vector(f, where, P + "class_embedding", dim);
        lnPreW = vector(f, where, P + "layernorm_pre.weight", dim);
        lnPreB = vector(f, where, P + "layernorm_pre.bias", dim);
        lnPostW = vector(f, where, P + "layernorm_post.weight", dim);
        lnPostB = vector(f, where, P + "layernorm_post.bias", dim);

        int nLayers = 0;
        while (f.contains(P + "model.layers." + nLayers + ".self_attn.q_proj.weight")) {
            nLayers++;
        }
        if (nLayers == 0) {
            throw new ModelFormatException(where + "no " + P + "model.layers.0.* tensors");
        }
        if (vc.has("num_hidden_layers") && vc.get("num_hidden_layers").asInt() != nLayers) {
            throw new ModelFormatException(where + "vision_config.num_hidden_layers " + vc.get("num_hidden_layers")
                    + " but the weights hold " + nLayers + " layers");
        }
        int heads = vc.path("num_attention_heads").asInt(0);
        if (heads <= 0 || dim % heads != 0 || (dim / heads) % 4 != 0) {
            throw new ModelFormatException(where + "vision_config.num_attention_heads " + vc.get("num_attention_heads")
                    + " must divide hidden size " + dim + " into heads whose size is a multiple of 4 (2D RoPE)");
        }
        layers = new Layer[nLayers];
        int mlpDim = -1;
        for (int i = 0; i < nLayers; i++) {
            String l = P + "model.layers." + i + ".";
            Tensor fc1 = matrix(f, where, l + "mlp.fc1.weight", dim, -1);
            mlpDim = Math.toIntExact(fc1.rowCount());
            layers[i] = new Layer(
                    vector(f, where, l + "input_layernorm.weight", dim), vector(f, where, l + "input_layernorm.bias", dim),
                    vector(f, where, l + "post_attention_layernorm.weight", dim),
                    vector(f, where, l + "post_attention_layernorm.bias", dim),
                    matrix(f, where, l + "self_attn.q_proj.weight", dim, dim), vector(f, where, l + "self_attn.q_proj.bias", dim),
                    matrix(f, where, l + "self_attn.k_proj.weight", dim, dim), vector(f, where, l + "self_attn.k_proj.bias", dim),
                    matrix(f, where, l + "self_attn.v_proj.weight", dim, dim), vector(f, where, l + "self_attn.v_proj.bias", dim),
                    matrix(f, where, l + "self_attn.o_proj.weight", dim, dim), vector(f, where, l + "self_attn.o_proj.bias", dim),
                    fc1, vector(f, where, l + "mlp.fc1.bias", mlpDim),
                    matrix(f, where, l + "mlp.fc2.weight", mlpDim, dim), vector(f, where, l + "mlp.fc2.bias", dim));
        }

        adapterFc1 = matrix(f, where, P + "vision_adapter.mlp.fc1.weight", -1, -1);
        int merged = Math.toIntExact(adapterFc1.rowLength());
        int group = merged / dim;
        int shuffle = (int) Math.round(Math.sqrt(group));
        if (merged % dim != 0 || shuffle * shuffle != group || grid % shuffle != 0) {
            throw new ModelFormatException(where + "vision_adapter.mlp.fc1 takes " + merged + " inputs: expected "
                    + "hidden size " + dim + " times s^2 for a pixel shuffle of s x s over the " + grid + "x" + grid
                    + " patch grid");
        }
        if (vc.has("pixel_shuffle_ratio") && Math.abs(vc.get("pixel_shuffle_ratio").asDouble() * shuffle - 1) > 1e-6) {
            throw new ModelFormatException(where + "vision_config.pixel_shuffle_ratio " + vc.get("pixel_shuffle_ratio")
                    + " disagrees with vision_adapter.mlp.fc1 (ratio 1/" + shuffle + ")");
        }
        int adapterDim = Math.toIntExact(adapterFc1.rowCount());
        adapterFc1B = optionalVector(f, where, P + "vision_adapter.mlp.fc1.bias", adapterDim);
        adapterFc2 = matrix(f, where, P + "vision_adapter.mlp.fc2.weight", adapterDim, -1);
        int outputDim = Math.toIntExact(adapterFc2.rowCount());
        adapterFc2B = optionalVector(f, where, P + "vision_adapter.mlp.fc2.bias", outputDim);
        projector = matrix(f, where, "multi_modal_projector.linear_1.weight", outputDim, -1);
        int textHidden = Math.toIntExact(projector.rowCount());
        projectorB = optionalVector(f, where, "multi_modal_projector.linear_1.bias", textHidden);

        float eps = (float) vc.path("norm_eps").asDouble(1e-5);
        double theta = vc.path("rope_parameters").path("rope_theta").asDouble(vc.path("rope_theta").asDouble(10000.0));
        g = new Geometry(grid * p, p, grid, dim, heads, nLayers, mlpDim, shuffle, adapterDim, outputDim, textHidden,
                eps, theta);

        int hd = g.headDim();
        int pairs = hd / 2;
        int quarter = hd / 4;
        int freqDim = hd / 2;
        float[] freq = new float[quarter];
        for (int j = 0; j < quarter; j++) {
            // HF/Meta: 1 / theta^(arange(0, hd/2, 2) / (hd/2)) in float32.
            freq[j] = 1f / (float) Math.pow(theta, (float) (2 * j) / (float) freqDim);
        }
        int n = grid * grid + 1;
        ropeCos = new float[n][pairs];
        ropeSin = new float[n][pairs];
        for (int t = 0; t < n; t++) {
            boolean cls = t == grid * grid;
            for (int i = 0; i < pairs; i++) {
                int pos = i < quarter ? t % grid : t / grid;
                float angle = cls ? 0f : (pos + 1) * freq[i % quarter];
                ropeCos[t][i] = (float) Math.cos(angle);
                ropeSin[t][i] = (float) Math.sin(angle);
            }
        }
    }

    /** Loads the vision tower and projector of a Hugging Face Llama 4 multimodal folder (weights stay mmapped). */
    public static VisionEncoder load(HfModelFolder folder) {
        return new VisionEncoder(folder);
    }

    public Geometry geometry() {
        return g;
    }

    private static void requireRank(String where, Tensor t, int rank) {
        if (t.shape().length != rank) {
            throw new ModelFormatException(where + t.name() + " has shape " + Arrays.toString(t.shape())
                    + " (ggml order), expected rank " + rank);
        }
    }

    /** A 2-D weight with {@code in} inputs per row and {@code out} rows (-1: any). */
    private static Tensor matrix(HfModelFolder f, String where, String name, int in, int out) {
        Tensor t = f.tensor(name);
        requireRank(where, t, 2);
        if ((in >= 0 && t.rowLength() != in) || (out >= 0 && t.rowCount() != out)) {
            throw new ModelFormatException(where + name + " has shape " + Arrays.toString(t.shape())
                    + " (ggml order: inputs, outputs), expected [" + (in < 0 ? "?" : in) + ", " + (out < 0 ? "?" : out) + "]");
        }
        return t;
    }

    private static float[] vector(HfModelFolder f, String where, String name, int size) {
        Tensor t = f.tensor(name);
        if (size >= 0 && t.elementCount() != size) {
            throw new ModelFormatException(where + name + " has shape " + Arrays.toString(t.shape()) + ", expected "
                    + size + " values");
        }
        return t.toFloatArray();
    }

    private static float[] optionalVector(HfModelFolder f, String where, String name, int size) {
        Optional<Tensor> t = f.findTensor(name);
        return t.isPresent() ? vector(f, where, name, size) : null;
    }

    /** The projected embeddings of every tile of an image, tile after tile: {@code [tiles * tokensPerTile][textHidden]}. */
    public float[][] encode(PreprocessedImage image) {
        if (image.tileSize() != g.tileSize()) {
            throw new IllegalArgumentException("image was preprocessed into " + image.tileSize() + "-pixel tiles, this "
                    + "vision encoder takes " + g.tileSize());
        }
        int per = g.tokensPerTile();
        float[][] out = new float[image.tileCount() * per][];
        for (int t = 0; t < image.tileCount(); t++) {
            float[][] rows = encodeTile(image.tiles()[t]);
            System.arraycopy(rows, 0, out, t * per, per);
        }
        return out;
    }

    /** The projected embeddings of one tile ({@code [3][S][S]} normalised pixels): {@code [tokensPerTile][textHidden]}. */
    public float[][] encodeTile(float[] pixels) {
        return trace(pixels).projected();
    }

    /** Runs one tile and keeps every intermediate. */
    public TileTrace trace(float[] pixels) {
        int s = g.tileSize();
        if (pixels.length != 3 * s * s) {
            throw new IllegalArgumentException("a tile needs 3 x " + s + " x " + s + " = " + (3 * s * s)
                    + " values, got " + pixels.length);
        }
        int grid = g.grid();
        int patches = grid * grid;
        float[][] patchEmb = VisionMath.linear(patchEmbedding, null, unfold(pixels));
        float[][] x = new float[patches + 1][];
        for (int t = 0; t < patches; t++) {
            x[t] = patchEmb[t].clone();
        }
        x[patches] = classEmbedding.clone();
        for (int t = 0; t <= patches; t++) {
            for (int i = 0; i < g.dim(); i++) {
                x[t][i] += positional[t * g.dim() + i];
            }
        }
        x = VisionMath.layerNorm(x, lnPreW, lnPreB, g.eps());
        for (Layer layer : layers) {
            float[][] h = VisionMath.layerNorm(x, layer.ln1W(), layer.ln1B(), g.eps());
            VisionMath.addInPlace(x, attention(layer, h));
            h = VisionMath.layerNorm(x, layer.ln2W(), layer.ln2B(), g.eps());
            h = VisionMath.linear(layer.fc1(), layer.fc1B(), h);
            VisionMath.geluInPlace(h);
            VisionMath.addInPlace(x, VisionMath.linear(layer.fc2(), layer.fc2B(), h));
        }
        x = VisionMath.layerNorm(x, lnPostW, lnPostB, g.eps());
        float[][] encoded = Arrays.copyOf(x, patches);
        float[][] shuffled = pixelShuffle(encoded);
        float[][] a = VisionMath.linear(adapterFc1, adapterFc1B, shuffled);
        VisionMath.geluInPlace(a);
        a = VisionMath.linear(adapterFc2, adapterFc2B, a);
        VisionMath.geluInPlace(a);
        float[][] projected = VisionMath.linear(projector, projectorB, a);
        return new TileTrace(patchEmb, encoded, shuffled, a, projected);
    }

    /** {@code nn.Unfold(p, stride=p)}: patch py * G + px, feature c * p^2 + ky * p + kx. */
    private float[][] unfold(float[] pixels) {
        int p = g.patchSize();
        int s = g.tileSize();
        int grid = g.grid();
        float[][] out = new float[grid * grid][3 * p * p];
        for (int py = 0; py < grid; py++) {
            for (int px = 0; px < grid; px++) {
                float[] f = out[py * grid + px];
                for (int c = 0; c < 3; c++) {
                    for (int ky = 0; ky < p; ky++) {
                        System.arraycopy(pixels, (c * s + py * p + ky) * s + px * p, f, (c * p + ky) * p, p);
                    }
                }
            }
        }
        return out;
    }

    /** Bidirectional multi-head attention with 2D RoPE on q and k, then o_proj. */
    private float[][] attention(Layer layer, float[][] h) {
        float[][] q = VisionMath.linear(layer.q(), layer.qB(), h);
        float[][] k = VisionMath.linear(layer.k(), layer.kB(), h);
        float[][] v = VisionMath.linear(layer.v(), layer.vB(), h);
        int n = h.length;
        int hd = g.headDim();
        for (int t = 0; t < n; t++) {
            rotate(q[t], t);
            rotate(k[t], t);
        }
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[][] out = new float[n][g.dim()];
        IntStream rows = IntStream.range(0, n);
        if ((long) n * n * g.dim() >= (1 << 16)) {
            rows = rows.parallel();
        }
        rows.forEach(i -> {
            float[] scores = new float[n];
            for (int head = 0; head < g.heads(); head++) {
                int off = head * hd;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    float d = 0;
                    for (int e = 0; e < hd; e++) {
                        d += q[i][off + e] * k[j][off + e];
                    }
                    scores[j] = d * scale;
                    max = Math.max(max, scores[j]);
                }
                float sum = 0;
                for (int j = 0; j < n; j++) {
                    scores[j] = (float) Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                float inv = 1f / sum;
                float[] o = out[i];
                for (int j = 0; j < n; j++) {
                    float w = scores[j] * inv;
                    for (int e = 0; e < hd; e++) {
                        o[off + e] += w * v[j][off + e];
                    }
                }
            }
        });
        return VisionMath.linear(layer.o(), layer.oB(), out);
    }

    /** Interleaved-pair rotation of every head of one token's q or k. */
    private void rotate(float[] x, int token) {
        int hd = g.headDim();
        float[] cos = ropeCos[token];
        float[] sin = ropeSin[token];
        for (int head = 0; head < g.heads(); head++) {
            int off = head * hd;
            for (int i = 0; i < hd / 2; i++) {
                float a = x[off + 2 * i];
                float b = x[off + 2 * i + 1];
                x[off + 2 * i] = a * cos[i] - b * sin[i];
                x[off + 2 * i + 1] = a * sin[i] + b * cos[i];
            }
        }
    }

    /**
     * Merges each s x s block of neighbouring patches into one token (row-major over blocks):
     * {@code out[yc * (G/s) + xc][dy * s * dim + dx * dim + c] = in[(s*yc + dy) * G + s*xc + dx][c]}.
     */
    private float[][] pixelShuffle(float[][] in) {
        int s = g.shuffle();
        int grid = g.grid();
        int side = grid / s;
        int dim = g.dim();
        float[][] out = new float[side * side][s * s * dim];
        for (int yc = 0; yc < side; yc++) {
            for (int xc = 0; xc < side; xc++) {
                float[] o = out[yc * side + xc];
                for (int dy = 0; dy < s; dy++) {
                    for (int dx = 0; dx < s; dx++) {
                        System.arraycopy(in[(s * yc + dy) * grid + s * xc + dx], 0, o, (dy * s + dx) * dim, dim);
                    }
                }
            }
        }
        return out;
    }
}
