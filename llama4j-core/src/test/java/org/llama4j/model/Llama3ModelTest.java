package org.llama4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufWriter;
import org.llama4j.kernel.RopeScaling;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.Tensor;

/**
 * Dense Llama 3 on small random models written to disk as an HF folder (q/k permuted for rotate-half RoPE) and
 * as a GGUF (Meta's rows, {@code rope_freqs}), loaded through {@link Llama4Model#load} and checked against
 * {@link NaiveLlama4} on the in-memory weights.
 */
class Llama3ModelTest {
    private static final double TOL = 2e-4;
    private static final Llama4Config CONFIG = RandomLlama4.llama3Config(3, 64);

    @TempDir
    Path tmp;

    private static int[] randomTokens(int n, long seed, int vocab) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    private static double maxAbs(float[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static double maxAbs(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @ParameterizedTest(name = "tied embeddings {0}")
    @ValueSource(booleans = {true, false})
    void hfFolderAndGgufGiveTheConfigAndLogitsOfTheReference(boolean tied) throws IOException {
        RandomLlama4 m = new RandomLlama4(CONFIG, 1, tied);
        int[] tokens = randomTokens(23, 2, CONFIG.vocabSize());
        NaiveLlama4 ref = new NaiveLlama4(m, tokens);
        try (Llama4Model hf = Llama4Model.load(Llama3Checkpoints.writeHfFolder(m, tied, tmp.resolve("hf")));
             Llama4Model gguf = Llama4Model.load(Llama3Checkpoints.writeGguf(m, tied, tmp.resolve("m.gguf")))) {
            assertThat(hf.config()).isEqualTo(CONFIG);
            assertThat(gguf.config()).isEqualTo(CONFIG);
            float[][] hfLogits = hf.newSession().ingestAll(tokens);
            float[][] ggufLogits = gguf.newSession().ingestAll(tokens);
            for (int t = 0; t < tokens.length; t++) {
                assertThat(maxAbs(hfLogits[t], ref.logits[t])).as("HF position %d", t).isLessThan(TOL);
                assertThat(maxAbs(ggufLogits[t], ref.logits[t])).as("GGUF position %d", t).isLessThan(TOL);
                assertThat(maxAbs(hfLogits[t], ggufLogits[t])).as("HF vs GGUF position %d", t).isLessThan(1e-5);
            }
        }
    }

    @Test
    void tiedCheckpointsUseTheEmbeddingMatrixAsOutputHead() throws IOException {
        RandomLlama4 m = new RandomLlama4(CONFIG, 3, true);
        try (Llama4Model gguf = Llama4Model.load(Llama3Checkpoints.writeGguf(m, true, tmp.resolve("tied.gguf")))) {
            Llama4Weights w = gguf.weights();
            assertThat(w.outputHead()).isInstanceOfSatisfying(org.llama4j.kernel.LinearMap.RowsAreOutputs.class,
                    head -> assertThat(head.tensor()).isSameAs(w.tokenEmbeddings()));
        }
    }

    @Test
    void incrementalDecodeReproducesPrefillWithTheFullHistoryCached() {
        Llama4Config c = RandomLlama4.llama3Config(2, 64);
        Llama4Model model = new RandomLlama4(c, 5, true).model();
        int[] tokens = randomTokens(40, 6, c.vocabSize());
        float[][] prefill = model.newSession().ingestAll(tokens);
        InferenceSession s = model.newSession();
        double worst = 0;
        for (int p = 0; p < tokens.length; p++) {
            worst = Math.max(worst, maxAbs(s.decode(tokens[p]), prefill[p]));
        }
        assertThat(worst).isLessThan(1e-5);
        for (int l = 0; l < c.layerCount(); l++) {
            assertThat(s.cache().layer(l).chunked()).isFalse();
            assertThat(s.cache().layer(l).window()).isEqualTo(c.contextLength());
            assertThat(s.cache().layer(l).capacity()).isGreaterThanOrEqualTo(40);
        }
    }

    @Test
    void ropeScalingComesFromTheCheckpointNotAConstant() throws IOException {
        // Llama 3.1 (factor 8) and Llama 3.2 (factor 32) share Meta's code, which hard-codes 8.
        Llama4Config factor8 = Llama4Config.llama3(61, 32, 3, 4, 2, 16, 48, 500000f, new RopeScaling(8f, 1f, 4f, 8192),
                1e-5f, 64, 1, List.of(2), -1);
        RandomLlama4 m = new RandomLlama4(factor8, 7, false);
        try (Llama4Model gguf = Llama4Model.load(Llama3Checkpoints.writeGguf(m, false, tmp.resolve("f8.gguf")));
             Llama4Model hf = Llama4Model.load(Llama3Checkpoints.writeHfFolder(m, false, tmp.resolve("f8")))) {
            assertThat(gguf.config().ropeScaling()).isEqualTo(new RopeScaling(8f, 1f, 4f, 8192));
            assertThat(hf.config()).isEqualTo(gguf.config());
        }
        assertThat(Llama3Checkpoints.ropeFreqDivisors(CONFIG))
                .containsExactly(new float[] {1f, 1f, 1f, 1f, 3.2923f, 32f, 32f, 32f}, org.assertj.core.data.Offset.offset(1e-4f));
    }

    @Test
    void rotateHalfRowsAreReadInMetaOrderWithoutCopying() {
        int heads = 3;
        int hd = 8;
        float[][] meta = new float[heads * hd][];
        for (int r = 0; r < meta.length; r++) {
            meta[r] = new float[] {r, -r};
        }
        float[][] hfRows = Llama3Checkpoints.permuteForRotateHalf(meta, heads);
        float[] flat = new float[meta.length * 2];
        for (int r = 0; r < hfRows.length; r++) {
            flat[2 * r] = hfRows[r][0];
            flat[2 * r + 1] = hfRows[r][1];
        }
        Tensor stored = BlockTensor.ofFloats("q_proj", flat, 2, meta.length);
        assertThat(stored.toFloatArray()).isNotEqualTo(concat(meta));   // the permutation is not the identity
        Tensor view = HfWeightLayout.interleavedRopeRows(stored, hd);
        assertThat(view.toFloatArray()).containsExactly(concat(meta));
        assertThat(view.dotRow(5, new float[] {1, 1}, 0)).isZero();
        assertThat(view.dotRow(5, new float[] {1, 0}, 0)).isEqualTo(5f);
    }

    @Test
    void llama3ConfigsMustBeDense() {
        Llama4Config c = CONFIG;
        assertThatThrownBy(() -> new Llama4Config(Architecture.LLAMA3, c.vocabSize(), c.hiddenSize(), c.layerCount(),
                c.headCount(), c.kvHeadCount(), c.headDim(), 4, 1, 16, c.denseFfnWidth(), List.of(1), List.of(),
                0, false, false, 0f, 0f, c.ropeTheta(), c.ropeScaling(), c.rmsNormEps(), c.contextLength(),
                c.bosTokenId(), c.eosTokenIds(), c.padTokenId()))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("Llama 3 is dense");
        assertThatThrownBy(() -> new Llama4Config(Architecture.LLAMA3, c.vocabSize(), c.hiddenSize(), c.layerCount(),
                c.headCount(), c.kvHeadCount(), c.headDim(), 0, 0, 0, c.denseFfnWidth(), List.of(), List.of(),
                8192, false, false, 0f, 0f, c.ropeTheta(), c.ropeScaling(), c.rmsNormEps(), c.contextLength(),
                c.bosTokenId(), c.eosTokenIds(), c.padTokenId()))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("chunking");
    }

    @Test
    void unknownArchitecturesAreNamedWithTheSupportedOnes() throws IOException {
        Path gguf = tmp.resolve("qwen.gguf");
        new GgufWriter().putString("general.architecture", "qwen2").addF32Tensor("token_embd.weight", new float[4], 2, 2)
                .write(gguf);
        assertThatThrownBy(() -> Llama4Model.load(gguf)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("'qwen2'").hasMessageContaining("llama4, llama");

        Path folder = tmp.resolve("mistral");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("config.json"), """
                {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 8,
                 "vocab_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}""");
        assertThatThrownBy(() -> Llama4Model.load(folder)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("MistralForCausalLM").hasMessageContaining("LlamaForCausalLM");
    }

    private static float[] concat(float[][] m) {
        float[] out = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
        }
        return out;
    }
}
