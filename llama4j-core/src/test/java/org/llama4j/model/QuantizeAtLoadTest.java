package org.llama4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.gguf.GgufWriter;
import org.llama4j.kernel.LinearMap;
import org.llama4j.model.Llama4Weights.MixtureOfExperts;
import org.llama4j.model.synthetic.QuantRecipe;
import org.llama4j.model.synthetic.QuantRecipe.FileType;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;
import org.llama4j.testing.Fixtures;

/**
 * {@code --quantize}: an HF folder's weights quantized at load by llama.cpp's recipe give (a) the logits of a GGUF
 * quantized with the same recipe and codecs, to float32 noise, and (b) logits within the quantization error levels
 * the llama4-tiny README measured for llama.cpp's own files.
 */
class QuantizeAtLoadTest {
    /** Same bytes, kernels and math on both sides; only float summation order may differ (fused vs split maps). */
    private static final double SAME_WEIGHTS_TOL = 1e-5;

    @TempDir
    Path tmp;

    private static Path scout() {
        return Fixtures.require("llama4-tiny/tiny-scout");
    }

    /**
     * The GGUF twin: tiny-scout's BF16 GGUF (the safetensors values, GGUF layout) with every tensor re-encoded by the
     * recipe, written with {@link GgufWriter} and loaded through the GGUF path.
     */
    private Path quantizedGguf(FileType type) throws IOException {
        Path out = tmp.resolve("tiny-scout." + type.cliName() + ".gguf");
        try (GgufFile bf16 = GgufFile.open(scout().resolve("tiny-scout.BF16.gguf"))) {
            Llama4Config c = Llama4GgufConfig.read(bf16);
            QuantRecipe recipe = new QuantRecipe(type, c.layerCount(), c.expertCount(), c.queriesPerKvHead());
            GgufWriter w = new GgufWriter();
            for (String k : bf16.keys()) {
                w.put(k, bf16.typeOf(k), bf16.get(k));
            }
            for (var info : bf16.tensorInfos()) {
                Tensor t = bf16.tensor(info.name());
                GgmlType target = recipe.typeFor(info.name(), t.shape());
                w.addTensor(BlockTensor.quantize(info.name(), target, t.toFloatArray(), t.shape()));
            }
            w.write(out);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "q4_0", "q4_k_m", "q6_k"})
    void quantizedAtLoadEqualsTheGgufQuantizedTheSameWay(String typeName) throws IOException {
        FileType type = FileType.parse(typeName);
        Path gguf = quantizedGguf(type);
        int[] tokens = Goldens.ints(Goldens.index(scout()).get("sequences").get(2).get("tokens"));
        try (Llama4Model atLoad = Llama4Model.load(scout(), LoadOptions.quantizedTo(type));
             Llama4Model fromGguf = Llama4Model.load(gguf);
             GgufFile file = GgufFile.open(gguf)) {
            // the same types per tensor as the GGUF
            assertThat(atLoad.weights().tokenEmbeddings().typeName())
                    .isEqualTo(file.tensor("token_embd.weight").typeName());
            assertThat(((LinearMap.RowsAreOutputs) atLoad.weights().outputHead()).tensor().typeName())
                    .isEqualTo(file.tensor("output.weight").typeName());
            MixtureOfExperts moe = (MixtureOfExperts) atLoad.weights().blocks().get(2).feedForward();
            assertThat(((LinearMap.RowsAreOutputs) moe.experts().get(1).down()).tensor().typeName())
                    .isEqualTo(file.tensor("blk.2.ffn_down_exps.weight").typeName());
            assertThat(((LinearMap.RowsAreOutputs) atLoad.weights().blocks().get(0).value()).tensor().typeName())
                    .isEqualTo(file.tensor("blk.0.attn_v.weight").typeName());
            // the same bytes: expert 3's down projection of layer 1, rows = outputs
            BlockTensor down = (BlockTensor) ((LinearMap.RowsAreOutputs) ((MixtureOfExperts) atLoad.weights().blocks()
                    .get(1).feedForward()).experts().get(3).down()).tensor();
            BlockTensor stored = (BlockTensor) file.tensor("blk.1.ffn_down_exps.weight");
            long bytes = down.byteSize();
            assertThat(down.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                    .isEqualTo(stored.data().asSlice(3 * bytes, bytes).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));

            float[][] a = atLoad.newSession().ingestAll(tokens);
            float[][] b = fromGguf.newSession().ingestAll(tokens);
            for (int p = 0; p < tokens.length; p++) {
                assertThat(Goldens.maxAbs(a[p], b[p], 0)).as("position %d", p).isLessThan(SAME_WEIGHTS_TOL);
            }
        }
    }

    /**
     * With 8-bit activations, Q4_0 quantized at load is interleaved for the integer kernel as a Q4_0 GGUF's is,
     * and both compute the same logits.
     */
    @Test
    void q4_0QuantizedAtLoadIsInterleavedForEightBitActivationsLikeTheGguf() throws IOException {
        Path gguf = quantizedGguf(FileType.Q4_0);
        int[] tokens = Goldens.ints(Goldens.index(scout()).get("sequences").get(2).get("tokens"));
        LoadOptions q8 = LoadOptions.DEFAULTS.withActivations(org.llama4j.kernel.KernelMode.Q8_ACTIVATIONS);
        try (Llama4Model atLoad = Llama4Model.load(scout(), q8.withQuantization(FileType.Q4_0));
             Llama4Model fromGguf = Llama4Model.load(gguf, q8)) {
            for (Llama4Model m : List.of(atLoad, fromGguf)) {
                assertThat(((LinearMap.RowsAreOutputs) m.weights().blocks().get(0).query()).tensor())
                        .isInstanceOf(org.llama4j.tensor.InterleavedQ4Tensor.class);
                assertThat(m.weights().tokenEmbeddings()).as("embeddings are read by row: not interleaved")
                        .isInstanceOf(BlockTensor.class);
            }
            float[][] a = atLoad.newSession().ingestAll(tokens);
            float[][] b = fromGguf.newSession().ingestAll(tokens);
            for (int p = 0; p < tokens.length; p++) {
                assertThat(Goldens.maxAbs(a[p], b[p], 0)).as("position %d", p).isLessThan(SAME_WEIGHTS_TOL);
            }
        }
    }

    /**
     * Against the bf16 path, the error levels of the README's llama.cpp-quantized tiny-scout files (dequantized
     * reference vs unquantized reference, sequences of 7 and 40: Q8_0 max 0.0998-0.101 / rms 0.0166-0.0171,
     * argmax 0.97-1; Q4_0 max 1.58-2.01 / rms 0.263-0.302, argmax 0.43-0.47), with a 1.5× margin, and at least a
     * fifth of the README's rms (so that the weights really were quantized). Measured: Q8_0 max 0.077 / 0.102, rms
     * 0.0141 / 0.0146; Q4_0 max 2.14 / 1.90, rms 0.285 / 0.281.
     */
    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "q4_0"})
    void quantizedAtLoadStaysWithinTheReadmeErrorLevels(String typeName) {
        FileType type = FileType.parse(typeName);
        double maxBound = type == FileType.Q8_0 ? 0.15 : 3.0;
        double rmsBound = type == FileType.Q8_0 ? 0.026 : 0.45;
        double rmsFloor = type == FileType.Q8_0 ? 0.0033 : 0.053;
        List<int[]> sequences = new ArrayList<>();
        for (JsonNode seq : Goldens.index(scout()).get("sequences")) {
            int len = seq.get("length").asInt();
            if (len == 7 || len == 40) {
                sequences.add(Goldens.ints(seq.get("tokens")));
            }
        }
        try (Llama4Model bf16 = Llama4Model.load(scout());
             Llama4Model quantized = Llama4Model.load(scout(), LoadOptions.quantizedTo(type))) {
            for (int[] tokens : sequences) {
                float[][] exact = bf16.newSession().ingestAll(tokens);
                float[][] approx = quantized.newSession().ingestAll(tokens);
                double max = 0;
                double sq = 0;
                long n = 0;
                for (int p = 0; p < tokens.length; p++) {
                    for (int i = 0; i < exact[p].length; i++) {
                        double d = approx[p][i] - exact[p][i];
                        max = Math.max(max, Math.abs(d));
                        sq += d * d;
                        n++;
                    }
                }
                double rms = Math.sqrt(sq / n);
                assertThat(max).as("%s, %d tokens: max abs", type, tokens.length).isLessThan(maxBound);
                assertThat(rms).as("%s, %d tokens: rms", type, tokens.length).isBetween(rmsFloor, rmsBound);
            }
        }
    }

    @Test
    void quantizingAGgufIsRefusedWithTheReason() {
        Path gguf = scout().resolve("tiny-scout.BF16.gguf");
        assertThatThrownBy(() -> Llama4Model.load(gguf, LoadOptions.quantizedTo(FileType.Q4_0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("applies to Hugging Face safetensors folders")
                .hasMessageContaining("llama-quantize");
    }
}
