package org.llama4j.safety.promptguard;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.hf.HfArchitecture;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.kernel.VectorMath;
import org.llama4j.tensor.Tensor;

/**
 * {@code DebertaV2ForSequenceClassification} (DeBERTa-v2/v3; Llama Prompt Guard 2) for inference, following
 * transformers' {@code modeling_deberta_v2.py}:
 *
 * <ol>
 * <li>embeddings: word embedding (+ absolute position embedding only when {@code position_biased_input}, + token
 * type 0 when {@code type_vocab_size > 0}, through {@code embed_proj} when {@code embedding_size != hidden_size}),
 * LayerNorm, then multiplied by the attention mask;
 * <li>each layer: disentangled self-attention, {@code score(i,j) = q_i·(k_j/s) + [q_i·Kr[δ]]/s + [k_j·Qr[δ]]/s}
 * with {@code s = √(d·scale_factor)} and {@code δ = clamp(bucket(i−j) + span, 0, 2·span−1)}; {@code Kr}, {@code Qr}
 * are the (LayerNormed) relative embeddings through the layer's key/query projections, biases included
 * ({@code share_att_key}) or through {@code pos_key_proj}/{@code pos_query_proj}. Masked softmax, output dense +
 * residual + LayerNorm, feed-forward + residual + LayerNorm;
 * <li>the context pooler on the first token (dense + {@code pooler_hidden_act}) and the classifier.
 * </ol>
 *
 * <p>The relative terms {@code Kr}, {@code Qr} depend only on the weights, so they are computed once per layer at
 * load. Word embeddings and linear weights stay views of the mapped safetensors files; the linear maps, dot products
 * and LayerNorms run on the shared kernels ({@link org.llama4j.kernel.Kernels}, {@link VectorMath},
 * {@link org.llama4j.kernel.LayerNorm}).
 * Instances are immutable and thread-safe; {@link #close()} unmaps the files.
 */
public final class DebertaV2Classifier implements AutoCloseable {
    private static final String E = "deberta.embeddings.";

    private final HfModelFolder folder;
    private final DebertaV2Config config;
    private final Tensor wordEmbeddings;
    private final float[] positionEmbeddings;
    private final float[] tokenTypeZero;
    private final Linear embedProjection;
    private final NormWeights embeddingNorm;
    private final Layer[] layers;
    private final float[] relativeEmbeddings; // after norm_rel_ebd, 2·span rows
    private final Linear pooler;
    private final Linear classifier;

    private record Layer(Linear query, Linear key, Linear value, Linear attentionOut, NormWeights attentionNorm,
            Linear intermediate, Linear output, NormWeights outputNorm, float[] positionKeys, float[] positionQueries) {
    }

    /**
     * The result of one forward pass.
     *
     * @param hiddenStates embedding output then each layer's output ({@code length × hidden} each), when requested
     */
    public record Output(float[] logits, double[] probabilities, float[] pooled, List<float[]> hiddenStates) {
    }

    private DebertaV2Classifier(HfModelFolder folder) {
        this.folder = folder;
        if (folder.architecture() != HfArchitecture.DEBERTA_V2_SEQUENCE_CLASSIFICATION) {
            throw new ModelFormatException(folder.dir() + ": architecture " + folder.architecture().hfName()
                    + " is not a DeBERTa-v2 sequence classifier");
        }
        DebertaV2Config c = DebertaV2Config.parse(folder.config(), folder.dir().resolve(HfModelFolder.CONFIG).toString());
        this.config = c;
        int h = c.hiddenSize();
        int emb = c.embeddingSize();
        wordEmbeddings = folder.tensor(E + "word_embeddings.weight");
        if (wordEmbeddings.shape().length != 2 || wordEmbeddings.rowLength() != emb
                || wordEmbeddings.rowCount() != c.vocabSize()) {
            throw new ModelFormatException(folder.dir() + ": word_embeddings has ggml shape "
                    + Arrays.toString(wordEmbeddings.shape()) + ", expected [" + c.vocabSize() + ", " + emb + "]");
        }
        positionEmbeddings = c.positionBiasedInput()
                ? Linear.floats(folder, E + "position_embeddings.weight", emb, c.maxPositionEmbeddings()) : null;
        tokenTypeZero = c.typeVocabSize() > 0
                ? Arrays.copyOf(Linear.floats(folder, E + "token_type_embeddings.weight", emb, c.typeVocabSize()), emb)
                : null;
        embedProjection = emb != h ? Linear.load(folder, E + "embed_proj", emb, h, false) : null;
        embeddingNorm = layerNorm(E + "LayerNorm", h);

        int span = c.attentionSpan();
        float[] rel = null;
        if (c.relativeAttention()) {
            rel = Linear.floats(folder, "deberta.encoder.rel_embeddings.weight", h, 2L * span);
            if (c.normRelEmbeddingsLayerNorm()) {
                layerNorm("deberta.encoder.LayerNorm", h).applyInPlace(rel, 2 * span);
            }
        }
        relativeEmbeddings = rel;
        layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = loadLayer("deberta.encoder.layer." + i + ".", rel, span);
        }
        pooler = Linear.load(folder, "pooler.dense", h, c.poolerHiddenSize(), true);
        classifier = Linear.load(folder, "classifier", c.poolerHiddenSize(), c.labels().size(), true);
    }

    private Layer loadLayer(String p, float[] rel, int span) {
        DebertaV2Config c = config;
        int h = c.hiddenSize();
        Linear q = Linear.load(folder, p + "attention.self.query_proj", h, h, true);
        Linear k = Linear.load(folder, p + "attention.self.key_proj", h, h, true);
        Linear v = Linear.load(folder, p + "attention.self.value_proj", h, h, true);
        float[] posKeys = null;
        float[] posQueries = null;
        if (rel != null) {
            if (c.c2p()) {
                Linear pk = c.shareAttKey() ? k : Linear.load(folder, p + "attention.self.pos_key_proj", h, h, true);
                posKeys = pk.apply(rel, 2 * span);
            }
            if (c.p2c()) {
                Linear pq = c.shareAttKey() ? q : Linear.load(folder, p + "attention.self.pos_query_proj", h, h, true);
                posQueries = pq.apply(rel, 2 * span);
            }
        }
        return new Layer(q, k, v,
                Linear.load(folder, p + "attention.output.dense", h, h, true),
                layerNorm(p + "attention.output.LayerNorm", h),
                Linear.load(folder, p + "intermediate.dense", h, c.intermediateSize(), true),
                Linear.load(folder, p + "output.dense", c.intermediateSize(), h, true),
                layerNorm(p + "output.LayerNorm", h), posKeys, posQueries);
    }

    private NormWeights layerNorm(String prefix, int width) {
        return new NormWeights(Linear.floats(folder, prefix + ".weight", width),
                Linear.floats(folder, prefix + ".bias", width), config.layerNormEps());
    }

    /** Opens the Hugging Face folder {@code dir} and loads the classifier from it. */
    public static DebertaV2Classifier load(Path dir) {
        HfModelFolder folder = HfModelFolder.open(dir);
        try {
            return new DebertaV2Classifier(folder);
        } catch (RuntimeException e) {
            folder.close();
            throw e;
        }
    }

    /** Loads from an open folder, which the classifier then owns (and closes). */
    public static DebertaV2Classifier load(HfModelFolder folder) {
        return new DebertaV2Classifier(folder);
    }

    public DebertaV2Config config() {
        return config;
    }

    public Path dir() {
        return folder.dir();
    }

    /** Logits and probabilities of one unpadded sequence of ids (already framed with the model's specials). */
    public Output classify(int[] ids) {
        return forward(ids, null, false);
    }

    /**
     * A full forward pass.
     *
     * @param attentionMask 1 for real tokens and 0 for padding, or null for all ones
     * @param keepHiddenStates whether to return the embedding output and every layer's output
     */
    public Output forward(int[] ids, int[] attentionMask, boolean keepHiddenStates) {
        int n = ids.length;
        if (n == 0) {
            throw new IllegalArgumentException("empty input: a sequence needs at least one token ([CLS])");
        }
        if (attentionMask != null && attentionMask.length != n) {
            throw new IllegalArgumentException("attention mask of " + attentionMask.length + " values for " + n + " ids");
        }
        if (positionEmbeddings != null && n > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException(n + " tokens exceed max_position_embeddings "
                    + config.maxPositionEmbeddings() + " of a model with absolute positions");
        }
        float[] mask = new float[n];
        for (int i = 0; i < n; i++) {
            int m = attentionMask == null ? 1 : attentionMask[i];
            if (m != 0 && m != 1) {
                throw new IllegalArgumentException("attention mask value " + m + " at " + i + " (expected 0 or 1)");
            }
            mask[i] = m;
        }
        List<float[]> hidden = keepHiddenStates ? new ArrayList<>() : null;
        float[] x = embed(ids, mask);
        if (hidden != null) {
            hidden.add(x.clone());
        }
        int[] buckets = config.relativeAttention()
                ? RelativePositions.bucketTable(n, config.positionBuckets(), config.maxRelativePositions()) : null;
        for (Layer layer : layers) {
            x = layer(layer, x, n, mask, buckets);
            if (hidden != null) {
                hidden.add(x.clone());
            }
        }
        float[] pooled = pooler.apply(Arrays.copyOf(x, config.hiddenSize()), 1);
        config.poolerAct().applyInPlace(pooled, 0, pooled.length);
        float[] logits = classifier.apply(pooled, 1);
        return new Output(logits, softmax(logits), pooled, hidden == null ? List.of() : List.copyOf(hidden));
    }

    private float[] embed(int[] ids, float[] mask) {
        int n = ids.length;
        int emb = config.embeddingSize();
        float[] x = new float[n * emb];
        for (int t = 0; t < n; t++) {
            int id = ids[t];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " at position " + t + " is outside the vocabulary of "
                        + config.vocabSize());
            }
            wordEmbeddings.dequantizeRow(id, x, t * emb);
            for (int i = 0; i < emb; i++) {
                if (positionEmbeddings != null) {
                    x[t * emb + i] += positionEmbeddings[t * emb + i];
                }
                if (tokenTypeZero != null) {
                    x[t * emb + i] += tokenTypeZero[i];
                }
            }
        }
        if (embedProjection != null) {
            x = embedProjection.apply(x, n);
        }
        embeddingNorm.applyInPlace(x, n);
        int h = config.hiddenSize();
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < h; i++) {
                x[t * h + i] *= mask[t];
            }
        }
        return x;
    }

    private float[] layer(Layer l, float[] x, int n, float[] mask, int[] buckets) {
        float[] context = attention(l, x, n, mask, buckets);
        float[] a = l.attentionOut().apply(context, n);
        VectorMath.add(x, 0, a, 0, a.length);
        l.attentionNorm().applyInPlace(a, n);
        float[] inter = l.intermediate().apply(a, n);
        int chunk = config.intermediateSize();
        IntStream.range(0, n).parallel().forEach(t -> config.hiddenAct().applyInPlace(inter, t * chunk, (t + 1) * chunk));
        float[] out = l.output().apply(inter, n);
        VectorMath.add(a, 0, out, 0, out.length);
        l.outputNorm().applyInPlace(out, n);
        return out;
    }

    private float[] attention(Layer l, float[] x, int n, float[] mask, int[] buckets) {
        int h = config.hiddenSize();
        int d = config.headDim();
        int heads = config.numHeads();
        float[] q = l.query().apply(x, n);
        float[] k = l.key().apply(x, n);
        float[] v = l.value().apply(x, n);
        // transformers divides the keys (not the products) by the scale: same rounding here
        float scale = (float) Math.sqrt((float) d * config.scaleFactor());
        float[] scaledKeys = new float[k.length];
        for (int i = 0; i < k.length; i++) {
            scaledKeys[i] = k[i] / scale;
        }
        int span = config.attentionSpan();
        float[] posKeys = l.positionKeys();
        float[] posQueries = l.positionQueries();
        float[] context = new float[n * h];
        IntStream.range(0, heads * n).parallel().forEach(task -> {
            int head = task / n;
            int i = task % n;
            int ho = head * d;
            float[] scores = new float[n];
            if (mask[i] == 0) {
                return; // a padded query attends to nothing: its context stays zero
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                if (mask[j] == 0) {
                    continue;
                }
                float s = VectorMath.dot(q, i * h + ho, scaledKeys, j * h + ho, d);
                if (buckets != null) {
                    int idx = Math.clamp(buckets[i - j + n - 1] + span, 0, 2 * span - 1);
                    float rel = 0f;
                    if (posKeys != null) {
                        rel += VectorMath.dot(q, i * h + ho, posKeys, idx * h + ho, d) / scale;
                    }
                    if (posQueries != null) {
                        rel += VectorMath.dot(k, j * h + ho, posQueries, idx * h + ho, d) / scale;
                    }
                    s += rel;
                }
                scores[j] = s;
                max = Math.max(max, s);
            }
            float sum = 0f;
            for (int j = 0; j < n; j++) {
                if (mask[j] != 0) {
                    scores[j] = (float) Math.exp(scores[j] - max);
                    sum += scores[j];
                }
            }
            int co = i * h + ho;
            for (int j = 0; j < n; j++) {
                if (mask[j] == 0) {
                    continue;
                }
                VectorMath.axpy(scores[j] / sum, v, j * h + ho, context, co, d);
            }
        });
        return context;
    }

    /** Softmax of logits, in double. */
    public static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float f : logits) {
            max = Math.max(max, f);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** Rows of the relative embedding table after {@code norm_rel_ebd} ({@code 2·span × hidden}), or null. */
    float[] relativeEmbeddings() {
        return relativeEmbeddings == null ? null : relativeEmbeddings.clone();
    }

    @Override
    public void close() {
        folder.close();
    }
}
