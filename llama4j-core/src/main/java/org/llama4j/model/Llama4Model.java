package org.llama4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import org.llama4j.kernel.Activations;
import org.llama4j.kernel.Attention;
import org.llama4j.kernel.KernelMode;
import org.llama4j.kernel.ParallelRunner;
import org.llama4j.kernel.RmsNorm;
import org.llama4j.kernel.RotaryEmbedding;
import org.llama4j.kernel.VectorMath;
import org.llama4j.model.Llama4Weights.Block;
import org.llama4j.model.Llama4Weights.MixtureOfExperts;
import org.llama4j.model.Llama4Weights.SwiGlu;

/**
 * The Llama 4 text model: the forward pass over a batch of consecutive tokens, reading and extending a
 * {@link KvCache}. Prefill passes the whole prompt as one batch (every weight row is decoded once per batch),
 * decode passes one token; both run exactly this code.
 *
 * <pre>
 *   x = embed(tokens)
 *   for each block:  h = x + attention(rmsnorm(x))      RoPE layers: chunked causal attention, RoPE, QK-norm
 *                                                        NoPE layers: global causal attention, query temperature
 *                    x = h + feedForward(rmsnorm(h))     MoE layers: shared expert + top-k routed experts
 *   logits = outputHead(rmsnorm(x))
 * </pre>
 *
 * All the arithmetic lives in {@code org.llama4j.kernel}; this file only says what Llama 4 does with it.
 *
 * <p>Every linear map (attention, dense FFN, experts, router, output head) computes in the model's
 * {@link #activations() activation mode}: {@link KernelMode#EXACT} unless chosen otherwise at load
 * ({@link LoadOptions#activations}) or with {@link #withActivations}.
 *
 * <p>Dense Llama 3.x ({@link Architecture#LLAMA3}) runs through exactly this code: its config simply has no MoE
 * or NoPE layers, no chunking and no QK-norm, so every block is RoPE + global causal attention + SwiGLU.
 */
public final class Llama4Model implements AutoCloseable {
    /** Multiply-adds of one token's attention (visible positions × query width) from which heads run in parallel. */
    private static final long PARALLEL_ATTENTION_THRESHOLD = 1 << 17;
    private final Llama4Config config;
    private final Llama4Weights weights;
    private final RotaryEmbedding rope;
    private final AutoCloseable resources;
    private final KernelMode activations;

    /** A model that computes in {@code activations} mode and closes {@code resources} (its mapped files) on close. */
    public Llama4Model(Llama4Config config, Llama4Weights weights, KernelMode activations, AutoCloseable resources) {
        this.config = config;
        this.weights = weights;
        this.rope = RotaryEmbedding.of(config.ropeTheta(), config.headDim(), config.ropeScaling());
        this.resources = resources;
        this.activations = java.util.Objects.requireNonNull(activations, "activations");
        if (weights.blocks().size() != config.layerCount()) {
            throw new IllegalArgumentException("config has " + config.layerCount() + " layers, weights "
                    + weights.blocks().size());
        }
    }

    public Llama4Model(Llama4Config config, Llama4Weights weights, AutoCloseable resources) {
        this(config, weights, KernelMode.EXACT, resources);
    }

    public Llama4Model(Llama4Config config, Llama4Weights weights) {
        this(config, weights, () -> { });
    }

    /**
     * Loads an HF model folder (config.json + safetensors) or a GGUF file of any {@link Architecture}: Llama 4
     * ({@code Llama4For*}, GGUF {@code llama4}) or dense Llama 3 ({@code LlamaForCausalLM}, GGUF {@code llama}).
     * Other architectures fail with a {@link org.llama4j.format.ModelFormatException} naming the supported ones.
     */
    public static Llama4Model load(java.nio.file.Path path) {
        return Llama4Loader.load(path, LoadOptions.DEFAULTS);
    }

    /**
     * Like {@link #load(java.nio.file.Path)}, with {@code options}: e.g. {@link LoadOptions#quantizedTo} quantizes
     * an HF folder's bf16 or FP8 weights into a ggml file type while loading (an
     * {@link IllegalArgumentException} for a GGUF file, whose types are final).
     */
    public static Llama4Model load(java.nio.file.Path path, LoadOptions options) {
        return Llama4Loader.load(path, options);
    }

    /** Reads only the config of an HF model folder or GGUF file. */
    public static Llama4Config readConfig(java.nio.file.Path path) {
        return Llama4Loader.config(path);
    }

    public Llama4Config config() {
        return config;
    }

    public Llama4Weights weights() {
        return weights;
    }

    /** How the linear maps treat activations: exact float products, or 8-bit activations as llama.cpp. */
    public KernelMode activations() {
        return activations;
    }

    /**
     * A view of the same weights computing in {@code mode}, e.g. to compare modes without loading twice. The view
     * shares the mapped files but does not own them: closing it releases nothing, and it must not be used after
     * this model is closed. The weights stay as loaded: only a model loaded in an 8-bit mode holds the
     * {@link org.llama4j.tensor.InterleavedQ4Tensor interleaved} Q4_0/Q4_K matrices, so an {@link KernelMode#AUTO}
     * view of an exact-loaded model computes exactly, and its {@link KernelMode#Q8_ACTIVATIONS} view takes the
     * row-wise integer kernels.
     */
    public Llama4Model withActivations(KernelMode mode) {
        return new Llama4Model(config, weights, mode, () -> { });
    }

    /** A fresh conversation state over this model, with the full context length. */
    public InferenceSession newSession() {
        return new InferenceSession(this, new KvCache(config));
    }

    /**
     * Runs {@code tokens}, which occupy positions {@code startPos, startPos+1, ...}, through the model, appending
     * their keys and values to {@code cache} (which must hold exactly the positions before {@code startPos}).
     *
     * @param logitsFor which absolute positions need logits (the output head is the largest matrix for small
     *                  models, so it only runs where asked)
     * @return logits per token of the batch, {@code null} where not requested
     */
    public float[][] forward(int[] tokens, int startPos, KvCache cache, IntPredicate logitsFor, ForwardListener listener) {
        return forward(tokens, startPos, cache, logitsFor, listener, null);
    }

    /**
     * Like {@link #forward(int[], int, KvCache, IntPredicate, ForwardListener)}, with early fusion: where
     * {@code inputEmbeddings} returns a row for an absolute position (e.g. a projected image patch for a
     * {@code <|patch|>} token, see {@code org.llama4j.vision.MultimodalPrompt#visionEmbeddingAt}), that row is
     * the position's input instead of its token embedding; null means the token embedding.
     */
    public float[][] forward(int[] tokens, int startPos, KvCache cache, IntPredicate logitsFor, ForwardListener listener,
                             java.util.function.IntFunction<float[]> inputEmbeddings) {
        int n = tokens.length;
        int[] positions = new int[n];
        KvCache[] caches = new KvCache[n];
        boolean[] wantLogits = new boolean[n];
        for (int t = 0; t < n; t++) {
            positions[t] = startPos + t;
            caches[t] = cache;
            wantLogits[t] = logitsFor.test(startPos + t);
        }
        return forwardRows(tokens, positions, caches, wantLogits, listener, inputEmbeddings);
    }

    /**
     * One decode step for several independent sequences at once (continuous batching): sequence {@code i} feeds
     * {@code tokens[i]} at the next position of its own {@code caches[i]}. The linear layers multiply the whole
     * batch in one pass, so every weight row is read once per step instead of once per sequence; attention runs
     * per sequence against its own cache. Each sequence gets the same logits as a single-sequence decode.
     *
     * @return the next-token logits of every sequence, indexed like {@code tokens}
     */
    public float[][] decodeBatch(int[] tokens, KvCache[] caches) {
        if (tokens.length != caches.length) {
            throw new IllegalArgumentException(tokens.length + " tokens for " + caches.length + " caches");
        }
        int n = tokens.length;
        int[] positions = new int[n];
        boolean[] wantLogits = new boolean[n];
        java.util.Set<KvCache> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int i = 0; i < n; i++) {
            if (!seen.add(caches[i])) {
                throw new IllegalArgumentException("sequence " + i + " shares its KV cache with another sequence");
            }
            positions[i] = caches[i].position();
            if (positions[i] >= caches[i].contextLength()) {
                throw new IllegalStateException("sequence " + i + ": context length " + caches[i].contextLength()
                        + " exceeded");
            }
            wantLogits[i] = true;
        }
        return forwardRows(tokens, positions, caches, wantLogits, ForwardListener.NONE, null);
    }

    /**
     * The forward pass over a batch of rows: row {@code t} is token {@code tokens[t]} at {@code positions[t]} of
     * the sequence whose cache is {@code caches[t]}. Rows of one sequence must be consecutive positions in order
     * (prefill); rows of different sequences are independent (batched decode).
     */
    private float[][] forwardRows(int[] tokens, int[] positions, KvCache[] caches, boolean[] wantLogits,
                                  ForwardListener listener, java.util.function.IntFunction<float[]> inputEmbeddings) {
        int n = tokens.length;
        int dim = config.hiddenSize();
        float[] x = new float[n * dim];
        for (int t = 0; t < n; t++) {
            if (tokens[t] < 0 || tokens[t] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[t] + " outside the vocabulary of "
                        + config.vocabSize());
            }
            float[] fused = inputEmbeddings == null ? null : inputEmbeddings.apply(positions[t]);
            if (fused == null) {
                weights.tokenEmbeddings().dequantizeRow(tokens[t], x, t * dim);
            } else if (fused.length != dim) {
                throw new IllegalArgumentException("input embedding for position " + positions[t] + " has "
                        + fused.length + " values, the model's hidden size is " + dim);
            } else {
                System.arraycopy(fused, 0, x, t * dim, dim);
            }
            listener.embedding(positions[t], x, t * dim, dim);
        }

        float[] normed = new float[n * dim];
        float[] delta = new float[n * dim];
        for (int layer = 0; layer < config.layerCount(); layer++) {
            Block block = weights.blocks().get(layer);
            rmsNormAll(x, block.attentionNorm(), normed, n);
            attention(layer, block, normed, n, positions, caches, delta);
            VectorMath.add(delta, 0, x, 0, n * dim);

            rmsNormAll(x, block.ffnNorm(), normed, n);
            switch (block.feedForward()) {
                case SwiGlu dense -> swiGlu(dense, normed, n, delta);
                case MixtureOfExperts moe -> mixtureOfExperts(layer, moe, normed, n, positions, delta, listener);
            }
            VectorMath.add(delta, 0, x, 0, n * dim);
            for (int t = 0; t < n; t++) {
                listener.blockOutput(layer, positions[t], x, t * dim, dim);
            }
        }

        rmsNormAll(x, weights.finalNorm(), normed, n);
        int wanted = 0;
        for (int t = 0; t < n; t++) {
            listener.finalNorm(positions[t], normed, t * dim, dim);
            if (wantLogits[t]) {
                wanted++;
            }
        }
        // The output head is the largest matrix of a small model: one batched product over the rows that need
        // logits reads it once per step however many sequences are decoding.
        int vocab = config.vocabSize();
        float[] headIn = new float[wanted * dim];
        for (int t = 0, r = 0; t < n; t++) {
            if (wantLogits[t]) {
                System.arraycopy(normed, t * dim, headIn, r++ * dim, dim);
            }
        }
        float[] headOut = new float[wanted * vocab];
        if (wanted > 0) { // a prefill chunk before the prompt's last token needs no logits: skip the head
            weights.outputHead().applyBatch(headIn, headOut, wanted, activations);
        }
        float[][] logits = new float[n][];
        for (int t = 0, r = 0; t < n; t++) {
            if (wantLogits[t]) {
                logits[t] = java.util.Arrays.copyOfRange(headOut, r * vocab, ++r * vocab);
            }
        }
        return logits;
    }

    /**
     * Grouped-query self-attention for the batch. Each token first stores its key and value, then attends to
     * what its layer's cache shows it: the current chunk on RoPE layers, everything so far on NoPE layers.
     */
    private void attention(int layer, Block block, float[] normed, int n, int[] positions, KvCache[] caches,
                           float[] out) {
        int headDim = config.headDim();
        int qWidth = config.headCount() * headDim;
        int kvWidth = config.kvHeadCount() * headDim;
        float[] q = new float[n * qWidth];
        float[] k = new float[n * kvWidth];
        float[] v = new float[n * kvWidth];
        block.query().applyBatch(normed, q, n, activations);
        block.key().applyBatch(normed, k, n, activations);
        block.value().applyBatch(normed, v, n, activations);

        boolean usesRope = config.usesRope(layer);
        float softmaxScale = (float) (1.0 / Math.sqrt(headDim));
        float[] cos = new float[headDim / 2];
        float[] sin = new float[headDim / 2];
        float[] mixed = new float[n * qWidth];
        for (int t = 0; t < n; t++) {
            int pos = positions[t];
            KvCache.Layer cache = caches[t].layer(layer);
            if (usesRope) {
                rope.rotation(pos, cos, sin);
                rope.rotate(q, t * qWidth, config.headCount(), cos, sin);
                rope.rotate(k, t * kvWidth, config.kvHeadCount(), cos, sin);
                if (config.useQkNorm()) {
                    RmsNorm.applyPerHead(q, t * qWidth, config.headCount(), headDim, config.rmsNormEps());
                    RmsNorm.applyPerHead(k, t * kvWidth, config.kvHeadCount(), headDim, config.rmsNormEps());
                }
            } else if (config.attnTemperatureTuning()) {
                VectorMath.scale(q, t * qWidth, qWidth, attentionTemperature(pos));
            }
            cache.store(pos, k, t * kvWidth, v, t * kvWidth);
            int visible = cache.visibleCount(pos);
            int tokenOffset = t * qWidth;
            // Heads are independent: at long context they are worth splitting over threads (each range of heads
            // gets its own score buffer); short ones stay on this thread, where waking workers would cost more.
            ParallelRunner.RangeBody heads = (first, end) -> {
                float[] scores = new float[visible];
                for (int h = first; h < end; h++) {
                    int kvHead = h / config.queriesPerKvHead();
                    Attention.attend(q, tokenOffset + h * headDim, headDim, cache.keys(kvHead), cache.values(kvHead),
                            cache.stride(), visible, softmaxScale, scores, mixed, tokenOffset + h * headDim);
                }
            };
            if ((long) visible * qWidth < PARALLEL_ATTENTION_THRESHOLD) {
                heads.run(0, config.headCount());
            } else {
                ParallelRunner.shared().parallelFor(config.headCount(), 1, heads);
            }
        }
        block.output().applyBatch(mixed, out, n, activations);
    }

    /**
     * NoPE layers see the whole context; to keep attention sharp far from the start, their queries are scaled by
     * {@code 1 + attnScale·ln(floor((pos+1)/floorScale) + 1)} (exactly 1 before position floorScale-1).
     */
    float attentionTemperature(int pos) {
        double steps = Math.floor((pos + 1.0f) / config.floorScale());
        return (float) (Math.log(steps + 1.0) * config.attnScale() + 1.0);
    }

    /** Dense SwiGLU feed-forward for a batch. */
    private void swiGlu(SwiGlu ffn, float[] in, int n, float[] out) {
        int width = ffn.width();
        float[] gateUp = new float[n * 2 * width];
        float[] hidden = new float[n * width];
        ffn.gateUp().applyBatch(in, gateUp, n, activations);
        for (int t = 0; t < n; t++) {
            Activations.swiGlu(gateUp, t * 2 * width, width, hidden, t * width);
        }
        ffn.down().applyBatch(hidden, out, n, activations);
    }

    /**
     * Shared expert plus routed experts. The router's sigmoid gate multiplies the expert's <em>input</em> (Meta's
     * formulation; SwiGLU is not linear, so scaling the output would differ). Tokens are grouped by expert so each
     * expert's weights are read once per batch.
     */
    private void mixtureOfExperts(int layer, MixtureOfExperts moe, float[] in, int n, int[] positions, float[] out,
                                  ForwardListener listener) {
        int dim = config.hiddenSize();
        int expertCount = moe.experts().size();
        swiGlu(moe.sharedExpert(), in, n, out);

        float[] scores = new float[n * expertCount];
        moe.router().applyBatch(in, scores, n, activations);
        List<List<Integer>> tokensOf = new ArrayList<>();
        List<List<Float>> gatesOf = new ArrayList<>();
        for (int e = 0; e < expertCount; e++) {
            tokensOf.add(new ArrayList<>());
            gatesOf.add(new ArrayList<>());
        }
        int[] chosen = new int[moe.expertsPerToken()];
        float[] gates = new float[moe.expertsPerToken()];
        for (int t = 0; t < n; t++) {
            ExpertRouter.route(scores, t * expertCount, expertCount, chosen, gates);
            listener.routing(layer, positions[t], chosen.clone(), gates.clone());
            for (int j = 0; j < chosen.length; j++) {
                tokensOf.get(chosen[j]).add(t);
                gatesOf.get(chosen[j]).add(gates[j]);
            }
        }

        for (int e = 0; e < expertCount; e++) {
            List<Integer> tokens = tokensOf.get(e);
            int m = tokens.size();
            if (m == 0) {
                continue;
            }
            float[] gatedIn = new float[m * dim];
            for (int i = 0; i < m; i++) {
                System.arraycopy(in, tokens.get(i) * dim, gatedIn, i * dim, dim);
                VectorMath.scale(gatedIn, i * dim, dim, gatesOf.get(e).get(i));
            }
            float[] expertOut = new float[m * dim];
            swiGlu(moe.experts().get(e), gatedIn, m, expertOut);
            for (int i = 0; i < m; i++) {
                VectorMath.add(expertOut, i * dim, out, tokens.get(i) * dim, dim);
            }
        }
    }

    private void rmsNormAll(float[] x, float[] weight, float[] out, int n) {
        int dim = config.hiddenSize();
        for (int t = 0; t < n; t++) {
            RmsNorm.apply(x, t * dim, weight, config.rmsNormEps(), out, t * dim, dim);
        }
    }

    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing model files failed", e);
        }
    }
}
