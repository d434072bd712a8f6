package org.llama4j.vision;

import java.util.Arrays;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.kernel.Attention;
import org.llama4j.model.TensorLookup;
import org.llama4j.tensor.Tensor;
import org.llama4j.vision.VisionTensorNames.LayerTensor;

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
 * of heads, epsilon, RoPE theta) and is checked against them. The weights come from an HF folder or from a
 * llama.cpp mmproj GGUF through one name mapping per format ({@link VisionTensorNames}); everything else is shared.
 *
 * <p>A tile's tokens go through every linear map together ({@link org.llama4j.kernel.BatchedMatMul}: each weight
 * is decoded once per tile), attention runs per head and query on the shared {@link Attention} kernel, and both
 * are spread over the common fork-join pool.
 */
public final class VisionEncoder {
    /** Queries per attention job (one head): enough work per job to amortise scheduling and the scores buffer. */
    private static final int QUERY_BLOCK = 16;

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
    /** cos/sin of every token's rotation, {@code [token · pairs + pair]}. */
    private final float[] ropeCos;
    private final float[] ropeSin;

    private VisionEncoder(TensorLookup tensors, VisionTensorNames names, VisionHyperparameters hp) {
        String where = tensors.source() + ": vision tower: ";
        patchEmbedding = present(tensors, names.patchEmbedding());
        requireRank(where, patchEmbedding, 2);
        int dim = Math.toIntExact(patchEmbedding.rowCount());
        int in = Math.toIntExact(patchEmbedding.rowLength());
        int p = (int) Math.round(Math.sqrt(in / 3.0));
        if (3 * p * p != in) {
            throw new ModelFormatException(where + patchEmbedding.name() + " has " + in
                    + " inputs per row, expected 3 * patch_size^2");
        }
        hp.check("patch size", hp.patchSize(), p, patchEmbedding.name());
        hp.check("hidden size", hp.hidden(), dim, patchEmbedding.name());
        Tensor pos = present(tensors, names.positionalEmbedding());
        int rows = Math.toIntExact(pos.rowCount());
        int grid = (int) Math.round(Math.sqrt(rows - 1));
        if (pos.rowLength() != dim || grid < 1 || grid * grid + 1 != rows) {
            throw new ModelFormatException(where + pos.name() + " has shape " + Arrays.toString(pos.shape())
                    + " (ggml order), expected (grid^2 + 1) rows of " + dim);
        }
        hp.check("image size", hp.imageSize(), grid * p, pos.name() + " (" + grid + "x" + grid + " patches)");
        positional = pos.toFloatArray();
        classEmbedding = tensors.vector(names.classEmbedding(), dim);
        lnPreW = tensors.vector(names.preNorm("weight"), dim);
        lnPreB = tensors.vector(names.preNorm("bias"), dim);
        lnPostW = tensors.vector(names.postNorm("weight"), dim);
        lnPostB = tensors.vector(names.postNorm("bias"), dim);

        int nLayers = 0;
        while (tensors.find(names.layer(nLayers, LayerTensor.Q, "weight")).isPresent()) {
            nLayers++;
        }
        if (nLayers == 0) {
            throw new ModelFormatException(where + "no layer 0 (tensor '" + names.layer(0, LayerTensor.Q, "weight")
                    + "' is missing)");
        }
        hp.check("layer count", hp.layers(), nLayers, "the tensors (" + nLayers + " layers)");
        int heads = hp.heads();
        if (heads <= 0 || dim % heads != 0 || (dim / heads) % 4 != 0) {
            throw new ModelFormatException(hp.source() + ": " + heads + " attention heads must divide hidden size "
                    + dim + " into heads whose size is a multiple of 4 (2D RoPE)");
        }
        Tensor fc1First = present(tensors, names.layer(0, LayerTensor.FC1, "weight"));
        requireRank(where, fc1First, 2);
        int mlpDim = Math.toIntExact(fc1First.rowCount());
        hp.check("MLP size", hp.mlpDim(), mlpDim, fc1First.name());
        layers = new Layer[nLayers];
        for (int i = 0; i < nLayers; i++) {
            layers[i] = new Layer(
                    tensors.vector(names.layer(i, LayerTensor.INPUT_NORM, "weight"), dim),
                    tensors.vector(names.layer(i, LayerTensor.INPUT_NORM, "bias"), dim),
                    tensors.vector(names.layer(i, LayerTensor.POST_ATTENTION_NORM, "weight"), dim),
                    tensors.vector(names.layer(i, LayerTensor.POST_ATTENTION_NORM, "bias"), dim),
                    tensors.require(names.layer(i, LayerTensor.Q, "weight"), dim, dim),
                    tensors.vector(names.layer(i, LayerTensor.Q, "bias"), dim),
                    tensors.require(names.layer(i, LayerTensor.K, "weight"), dim, dim),
                    tensors.vector(names.layer(i, LayerTensor.K, "bias"), dim),
                    tensors.require(names.layer(i, LayerTensor.V, "weight"), dim, dim),
                    tensors.vector(names.layer(i, LayerTensor.V, "bias"), dim),
                    tensors.require(names.layer(i, LayerTensor.OUT, "weight"), dim, dim),
                    tensors.vector(names.layer(i, LayerTensor.OUT, "bias"), dim),
                    tensors.require(names.layer(i, LayerTensor.FC1, "weight"), dim, mlpDim),
                    tensors.vector(names.layer(i, LayerTensor.FC1, "bias"), mlpDim),
                    tensors.require(names.layer(i, LayerTensor.FC2, "weight"), mlpDim, dim),
                    tensors.vector(names.layer(i, LayerTensor.FC2, "bias"), dim));
        }

        adapterFc1 = present(tensors, names.adapter(1, "weight"));
        requireRank(where, adapterFc1, 2);
        int merged = Math.toIntExact(adapterFc1.rowLength());
        int group = merged / dim;
        int shuffle = (int) Math.round(Math.sqrt(group));
        if (merged % dim != 0 || shuffle * shuffle != group || grid % shuffle != 0) {
            throw new ModelFormatException(where + adapterFc1.name() + " takes " + merged + " inputs: expected "
                    + "hidden size " + dim + " times s^2 for a pixel shuffle of s x s over the " + grid + "x" + grid
                    + " patch grid");
        }
        hp.check("pixel shuffle factor (1/ratio)", hp.shuffle(), shuffle, adapterFc1.name());
        int adapterDim = Math.toIntExact(adapterFc1.rowCount());
        adapterFc1B = optionalVector(tensors, names.adapter(1, "bias"), adapterDim);
        adapterFc2 = present(tensors, names.adapter(2, "weight"));
        requireRank(where, adapterFc2, 2);
        if (adapterFc2.rowLength() != adapterDim) {
            throw new ModelFormatException(where + adapterFc2.name() + " has shape "
                    + Arrays.toString(adapterFc2.shape()) + " (ggml order), expected " + adapterDim + " inputs");
        }
        int outputDim = Math.toIntExact(adapterFc2.rowCount());
        adapterFc2B = optionalVector(tensors, names.adapter(2, "bias"), outputDim);
        projector = present(tensors, names.projector("weight"));
        requireRank(where, projector, 2);
        if (projector.rowLength() != outputDim) {
            throw new ModelFormatException(where + projector.name() + " has shape "
                    + Arrays.toString(projector.shape()) + " (ggml order), expected " + outputDim + " inputs");
        }
        int textHidden = Math.toIntExact(projector.rowCount());
        hp.check("text hidden size (projector output)", hp.textHidden(), textHidden, projector.name());
        projectorB = optionalVector(tensors, names.projector("bias"), textHidden);

        g = new Geometry(grid * p, p, grid, dim, heads, nLayers, mlpDim, shuffle, adapterDim, outputDim, textHidden,
                hp.eps(), hp.ropeTheta());

        int hd = g.headDim();
        int pairs = hd / 2;
        int quarter = hd / 4;
        int freqDim = hd / 2;
        float[] freq = new float[quarter];
        for (int j = 0; j < quarter; j++) {
            // HF/Meta: 1 / theta^(arange(0, hd/2, 2) / (hd/2)) in float32.
            freq[j] = 1f / (float) Math.pow(hp.ropeTheta(), (float) (2 * j) / (float) freqDim);
        }
        int n = grid * grid + 1;
        ropeCos = new float[n * pairs];
        ropeSin = new float[n * pairs];
        for (int t = 0; t < n; t++) {
            boolean cls = t == grid * grid;
            for (int i = 0; i < pairs; i++) {
                int position = i < quarter ? t % grid : t / grid;
                float angle = cls ? 0f : (position + 1) * freq[i % quarter];
                ropeCos[t * pairs + i] = (float) Math.cos(angle);
                ropeSin[t * pairs + i] = (float) Math.sin(angle);
            }
        }
    }

    /** Loads the vision tower and projector of a Hugging Face Llama 4 multimodal folder (weights stay mmapped). */
    public static VisionEncoder load(HfModelFolder folder) {
        return new VisionEncoder(new TensorLookup(folder.dir().toString(), folder::findTensor),
                VisionTensorNames.HUGGING_FACE, VisionHyperparameters.of(folder));
    }

    /**
     * Loads the vision tower and projector of a llama.cpp mmproj GGUF ({@code clip.projector_type = llama4}), the
     * file passed next to the text model (weights stay mmapped; keep {@code mmproj} open while encoding).
     */
    public static VisionEncoder load(GgufFile mmproj) {
        return new VisionEncoder(new TensorLookup(mmproj.path().toString(), mmproj::findTensor),
                VisionTensorNames.MMPROJ, Mmproj.hyperparameters(mmproj));
    }

    public Geometry geometry() {
        return g;
    }

    private static Tensor present(TensorLookup tensors, String name) {
        return tensors.find(name).orElseThrow(() -> new ModelFormatException(tensors.source() + ": vision tower: tensor '"
                + name + "' is missing"));
    }

    private static void requireRank(String where, Tensor t, int rank) {
        if (t.shape().length != rank) {
            throw new ModelFormatException(where + t.name() + " has shape " + Arrays.toString(t.shape())
                    + " (ggml order), expected rank " + rank);
        }
    }

    private static float[] optionalVector(TensorLookup tensors, String name, int size) {
        return tensors.find(name).isPresent() ? tensors.vector(name, size) : null;
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
        return VisionMath.rows(run(pixels, null), g.tokensPerTile(), g.textHidden());
    }

    /** Runs one tile and keeps every intermediate. */
    public TileTrace trace(float[] pixels) {
        float[][][] kept = new float[4][][];
        float[] projected = run(pixels, kept);
        return new TileTrace(kept[0], kept[1], kept[2], kept[3],
                VisionMath.rows(projected, g.tokensPerTile(), g.textHidden()));
    }

    /**
     * One tile to its projected rows, flat {@code [tokensPerTile][textHidden]}; with {@code trace} non-null, also
     * fills it with the patch embeddings, encoder output, pixel shuffle and adapter output.
     */
    private float[] run(float[] pixels, float[][][] trace) {
        int s = g.tileSize();
        if (pixels.length != 3 * s * s) {
            throw new IllegalArgumentException("a tile needs 3 x " + s + " x " + s + " = " + (3 * s * s)
                    + " values, got " + pixels.length);
        }
        int dim = g.dim();
        int patches = g.grid() * g.grid();
        int n = patches + 1;
        float[] patchEmb = VisionMath.linear(patchEmbedding, null, unfold(pixels), patches);
        // the class token goes last (Meta concatenates it after the patches), then the positions row for row
        float[] x = Arrays.copyOf(patchEmb, n * dim);
        System.arraycopy(classEmbedding, 0, x, patches * dim, dim);
        VisionMath.addInPlace(x, positional);
        x = VisionMath.layerNorm(x, dim, lnPreW, lnPreB, g.eps());
        for (Layer layer : layers) {
            float[] h = VisionMath.layerNorm(x, dim, layer.ln1W(), layer.ln1B(), g.eps());
            VisionMath.addInPlace(x, attention(layer, h, n));
            h = VisionMath.layerNorm(x, dim, layer.ln2W(), layer.ln2B(), g.eps());
            h = VisionMath.linear(layer.fc1(), layer.fc1B(), h, n);
            VisionMath.geluInPlace(h);
            VisionMath.addInPlace(x, VisionMath.linear(layer.fc2(), layer.fc2B(), h, n));
        }
        x = VisionMath.layerNorm(x, dim, lnPostW, lnPostB, g.eps());
        float[] encoded = Arrays.copyOf(x, patches * dim);
        float[] shuffled = pixelShuffle(encoded);
        int tokens = g.tokensPerTile();
        float[] a = VisionMath.linear(adapterFc1, adapterFc1B, shuffled, tokens);
        VisionMath.geluInPlace(a);
        a = VisionMath.linear(adapterFc2, adapterFc2B, a, tokens);
        VisionMath.geluInPlace(a);
        if (trace != null) {
            trace[0] = VisionMath.rows(patchEmb, patches, dim);
            trace[1] = VisionMath.rows(encoded, patches, dim);
            trace[2] = VisionMath.rows(shuffled, tokens, g.shuffle() * g.shuffle() * dim);
            trace[3] = VisionMath.rows(a, tokens, g.outputDim());
        }
        return VisionMath.linear(projector, projectorB, a, tokens);
    }

    /** {@code nn.Unfold(p, stride=p)}: patch py * G + px, feature c * p^2 + ky * p + kx; flat {@code [G²][3p²]}. */
    private float[] unfold(float[] pixels) {
        int p = g.patchSize();
        int s = g.tileSize();
        int grid = g.grid();
        int width = 3 * p * p;
        float[] out = new float[grid * grid * width];
        for (int py = 0; py < grid; py++) {
            for (int px = 0; px < grid; px++) {
                int f = (py * grid + px) * width;
                for (int c = 0; c < 3; c++) {
                    for (int ky = 0; ky < p; ky++) {
                        System.arraycopy(pixels, (c * s + py * p + ky) * s + px * p, out, f + (c * p + ky) * p, p);
                    }
                }
            }
        }
        return out;
    }

    /** Bidirectional multi-head attention with 2D RoPE on q and k, then o_proj; {@code h} is {@code [n][dim]}. */
    private float[] attention(Layer layer, float[] h, int n) {
        int dim = g.dim();
        int hd = g.headDim();
        int heads = g.heads();
        float[] q = VisionMath.linear(layer.q(), layer.qB(), h, n);
        float[] k = VisionMath.linear(layer.k(), layer.kB(), h, n);
        float[] v = VisionMath.linear(layer.v(), layer.vB(), h, n);
        rotate(q, n);
        rotate(k, n);
        // the shared attention kernel reads one head's keys and values dimension-major: [d][token]
        float[][] keys = new float[heads][hd * n];
        float[][] values = new float[heads][hd * n];
        for (int t = 0; t < n; t++) {
            for (int head = 0; head < heads; head++) {
                for (int d = 0; d < hd; d++) {
                    keys[head][d * n + t] = k[t * dim + head * hd + d];
                    values[head][d * n + t] = v[t * dim + head * hd + d];
                }
            }
        }
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] out = new float[n * dim];
        int blocks = (n + QUERY_BLOCK - 1) / QUERY_BLOCK;
        VisionMath.tokens(heads * blocks, QUERY_BLOCK * n * hd).forEach(job -> {
            int head = job / blocks;
            int first = job % blocks * QUERY_BLOCK;
            float[] scores = new float[n];
            for (int t = first; t < Math.min(n, first + QUERY_BLOCK); t++) {
                int off = t * dim + head * hd;
                Attention.attend(q, off, hd, keys[head], values[head], n, n, scale, scores, out, off);
            }
        });
        return VisionMath.linear(layer.o(), layer.oB(), out, n);
    }

    /** Interleaved-pair rotation of every head of every token's q or k ({@code x} is {@code [n][dim]}). */
    private void rotate(float[] x, int n) {
        int hd = g.headDim();
        int pairs = hd / 2;
        int dim = g.dim();
        for (int t = 0; t < n; t++) {
            int table = t * pairs;
            for (int head = 0; head < g.heads(); head++) {
                int off = t * dim + head * hd;
                for (int i = 0; i < pairs; i++) {
                    float a = x[off + 2 * i];
                    float b = x[off + 2 * i + 1];
                    float cos = ropeCos[table + i];
                    float sin = ropeSin[table + i];
                    x[off + 2 * i] = a * cos - b * sin;
                    x[off + 2 * i + 1] = a * sin + b * cos;
                }
            }
        }
    }

    /**
     * Merges each s x s block of neighbouring patches into one token, tokens row-major over blocks as Meta and HF
     * emit them: {@code out[yc * (G/s) + xc][dy * s * dim + dx * dim + c] = in[(s*yc + dy) * G + s*xc + dx][c]}.
     *
     * <p>llama.cpp's graph ({@code clip_graph_llama4}, last permute commented out) builds the same features per
     * token but, by our reading of the ggml ops, emits the tokens column-major ({@code xc * (G/s) + yc}). Nothing
     * in the mmproj file depends on this order; llama4j follows Meta (verified against Meta's goldens).
     */
    private float[] pixelShuffle(float[] in) {
        int s = g.shuffle();
        int grid = g.grid();
        int side = grid / s;
        int dim = g.dim();
        int width = s * s * dim;
        float[] out = new float[side * side * width];
        for (int yc = 0; yc < side; yc++) {
            for (int xc = 0; xc < side; xc++) {
                int o = (yc * side + xc) * width;
                for (int dy = 0; dy < s; dy++) {
                    for (int dx = 0; dx < s; dx++) {
                        System.arraycopy(in, ((s * yc + dy) * grid + s * xc + dx) * dim, out, o + (dy * s + dx) * dim,
                                dim);
                    }
                }
            }
        }
        return out;
    }
}
