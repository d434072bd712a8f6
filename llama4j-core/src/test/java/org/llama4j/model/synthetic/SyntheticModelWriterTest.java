package org.llama4j.model.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.gguf.GgufTensorInfo;
import org.llama4j.kernel.RopeScaling;
import org.llama4j.model.synthetic.QuantRecipe.FileType;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;

class SyntheticModelWriterTest {
    @TempDir
    Path dir;

    /** Scout-shaped: MoE in every layer, qk-norm (4 experts), llama3 rope scaling, small chunk/floor. */
    static SyntheticModelConfig scoutShaped() {
        return new SyntheticModelConfig("scout-shaped", 512, 64, 4, 4, 2, 16, 4, 1, 128, 256, 1, 16, true, 8, 0.1f,
                500000f, new RopeScaling(16f, 1f, 1f, 8192), 1e-5f, 256);
    }

    /** Maverick-shaped: 128 experts on every other layer, dense FFN between, no rope scaling. */
    static SyntheticModelConfig maverickShaped() {
        return new SyntheticModelConfig("maverick-shaped", 512, 64, 4, 4, 2, 16, 128, 1, 32, 256, 2, 16, true, 8,
                0.1f, 500000f, null, 1e-5f, 256);
    }

    /** Hidden 256 and FFN widths 256: every row is a multiple of 256, so K-quants occur without fallbacks. */
    static SyntheticModelConfig kQuantCapable() {
        return new SyntheticModelConfig("k-quant", 512, 256, 4, 4, 1, 64, 2, 1, 256, 256, 2, 8192, true, 8192, 0.1f,
                500000f, new RopeScaling(16f, 1f, 1f, 8192), 1e-5f, 256);
    }

    private Path write(SyntheticModelConfig c, FileType type, long seed, String file) throws IOException {
        Path out = dir.resolve(file);
        new SyntheticModelWriter(c, type, seed).threads(2).write(out);
        return out;
    }

    @Test
    void scoutShapedFileHasLlamaCppNamesShapesAndKeys() throws IOException {
        Path path = write(scoutShaped(), FileType.BF16, 1, "scout.gguf");
        try (GgufFile f = GgufFile.open(path)) {
            assertThat(f.getString("general.architecture")).isEqualTo("llama4");
            assertThat(f.getString("general.name")).isEqualTo("scout-shaped");
            assertThat(f.getLong("general.file_type")).isEqualTo(32);
            assertThat(f.has("general.quantization_version")).isFalse();
            assertThat(f.getLong("llama4.vocab_size")).isEqualTo(512);
            assertThat(f.getLong("llama4.embedding_length")).isEqualTo(64);
            assertThat(f.getLong("llama4.block_count")).isEqualTo(4);
            assertThat(f.getLong("llama4.context_length")).isEqualTo(256);
            // the converter's swap: feed_forward_length = dense width, expert_feed_forward_length = expert width
            assertThat(f.getLong("llama4.feed_forward_length")).isEqualTo(256);
            assertThat(f.getLong("llama4.expert_feed_forward_length")).isEqualTo(128);
            assertThat(f.getLong("llama4.expert_count")).isEqualTo(4);
            assertThat(f.getLong("llama4.expert_used_count")).isEqualTo(1);
            assertThat(f.getLong("llama4.interleave_moe_layer_step")).isEqualTo(1);
            assertThat(f.getLong("llama4.attention.head_count")).isEqualTo(4);
            assertThat(f.getLong("llama4.attention.head_count_kv")).isEqualTo(2);
            assertThat(f.getLong("llama4.attention.key_length")).isEqualTo(16);
            assertThat(f.getLong("llama4.attention.value_length")).isEqualTo(16);
            assertThat(f.getLong("llama4.rope.dimension_count")).isEqualTo(16);
            assertThat(f.getFloat("llama4.rope.freq_base")).isEqualTo(500000f);
            assertThat(f.getFloat("llama4.attention.layer_norm_rms_epsilon")).isEqualTo(1e-5f);
            assertThat(f.getLong("llama4.attention.sliding_window")).isEqualTo(16);
            assertThat(f.getLong("llama4.attention.temperature_length")).isEqualTo(8);
            assertThat(f.getFloat("llama4.attention.temperature_scale")).isEqualTo(0.1f);

            List<String> names = f.tensorInfos().stream().map(GgufTensorInfo::name).toList();
            assertThat(names).startsWith("token_embd.weight", "output_norm.weight", "output.weight", "rope_freqs.weight");
            assertThat(names).hasSize(4 + 4 * 13);
            assertShape(f, "token_embd.weight", GgmlType.BF16, 64, 512);
            assertShape(f, "output.weight", GgmlType.BF16, 64, 512);
            assertShape(f, "output_norm.weight", GgmlType.F32, 64);
            assertShape(f, "rope_freqs.weight", GgmlType.F32, 8);
            for (int l = 0; l < 4; l++) {
                String p = "blk." + l + ".";
                assertShape(f, p + "attn_norm.weight", GgmlType.F32, 64);
                assertShape(f, p + "attn_q.weight", GgmlType.BF16, 64, 64);
                assertShape(f, p + "attn_k.weight", GgmlType.BF16, 64, 32);
                assertShape(f, p + "attn_v.weight", GgmlType.BF16, 64, 32);
                assertShape(f, p + "attn_output.weight", GgmlType.BF16, 64, 64);
                assertShape(f, p + "ffn_norm.weight", GgmlType.F32, 64);
                assertShape(f, p + "ffn_gate_inp.weight", GgmlType.F32, 64, 4); // the converter keeps routers F32
                assertShape(f, p + "ffn_gate_exps.weight", GgmlType.BF16, 64, 128, 4);
                assertShape(f, p + "ffn_up_exps.weight", GgmlType.BF16, 64, 128, 4);
                assertShape(f, p + "ffn_down_exps.weight", GgmlType.BF16, 128, 64, 4);
                assertShape(f, p + "ffn_gate_shexp.weight", GgmlType.BF16, 64, 128);
                assertShape(f, p + "ffn_up_shexp.weight", GgmlType.BF16, 64, 128);
                assertShape(f, p + "ffn_down_shexp.weight", GgmlType.BF16, 128, 64);
                assertThat(f.tensorInfo(p + "ffn_gate.weight")).isEmpty();
            }
            // llama3 scaling x16 with high = low freq factor 1: the 3 lowest of 8 frequencies have wavelengths
            // above 8192 and are divided by 16, the others are untouched (fixture README, tiny-scout)
            float[] rope = floats(f.tensor("rope_freqs.weight"));
            assertThat(rope).containsExactly(1, 1, 1, 1, 1, 16, 16, 16);
        }
    }

    @Test
    void maverickShapedFileInterleavesDenseAndMoeLayers() throws IOException {
        Path path = write(maverickShaped(), FileType.Q8_0, 7, "maverick.gguf");
        try (GgufFile f = GgufFile.open(path)) {
            assertThat(f.getLong("llama4.interleave_moe_layer_step")).isEqualTo(2);
            assertThat(f.getLong("llama4.expert_count")).isEqualTo(128);
            assertThat(f.getLong("general.file_type")).isEqualTo(7);
            assertThat(f.getLong("general.quantization_version")).isEqualTo(2);
            assertThat(f.tensorInfo("rope_freqs.weight")).as("no rope scaling, no rope_freqs").isEmpty();
            for (int l : new int[] {0, 2}) {
                String p = "blk." + l + ".";
                assertShape(f, p + "ffn_gate.weight", GgmlType.Q8_0, 64, 256);
                assertShape(f, p + "ffn_up.weight", GgmlType.Q8_0, 64, 256);
                assertShape(f, p + "ffn_down.weight", GgmlType.Q8_0, 256, 64);
                assertThat(f.tensorInfo(p + "ffn_gate_inp.weight")).isEmpty();
            }
            for (int l : new int[] {1, 3}) {
                String p = "blk." + l + ".";
                assertShape(f, p + "ffn_gate_inp.weight", GgmlType.F32, 64, 128);
                assertShape(f, p + "ffn_gate_exps.weight", GgmlType.Q8_0, 64, 32, 128);
                assertShape(f, p + "ffn_down_exps.weight", GgmlType.Q8_0, 32, 64, 128);
                assertShape(f, p + "ffn_down_shexp.weight", GgmlType.Q8_0, 32, 64);
                assertThat(f.tensorInfo(p + "ffn_gate.weight")).isEmpty();
            }
            // Q8_0 keeps output in Q8_0 (llama.cpp: only types other than Q8_0 are raised to Q6_K)
            assertShape(f, "output.weight", GgmlType.Q8_0, 64, 512);
        }
        assertThat(maverickShaped().usesQkNorm()).isFalse();
        assertThat(scoutShaped().usesQkNorm()).isTrue();
    }

    @Test
    void tokenizerMetadataIsConsistentWithTheTensors() throws IOException {
        Path path = write(scoutShaped(), FileType.F16, 3, "vocab.gguf");
        try (GgufFile f = GgufFile.open(path)) {
            String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
            assertThat(tokens).hasSize(512);
            assertThat(f.getIntArray("tokenizer.ggml.token_type")).hasSize(512);
            assertThat(f.getString("tokenizer.ggml.model")).isEqualTo("gpt2");
            assertThat(f.getString("tokenizer.ggml.pre")).isEqualTo("llama4");
            // 512 tokens: 384 BPE tokens then 128 specials
            assertThat(f.getLong("tokenizer.ggml.bos_token_id")).isEqualTo(384);
            assertThat(tokens[384]).isEqualTo("<|begin_of_text|>");
            assertThat(f.getLong("tokenizer.ggml.eos_token_id")).isEqualTo(385);
            assertThat(f.getLong("tokenizer.ggml.eot_token_id")).isEqualTo(384 + 8);
            assertThat(tokens[384 + 8]).isEqualTo("<|eot|>");
            assertThat(f.getLong("tokenizer.ggml.padding_token_id")).isEqualTo(384 + 18);
            assertThat(tokens[384 + 18]).isEqualTo("<|finetune_right_pad|>");
            assertThat(f.getBoolean("tokenizer.ggml.add_bos_token")).isTrue();
            assertThat(f.getString("tokenizer.chat_template")).startsWith("{{- bos_token }}")
                    .contains("<|header_start|>assistant<|header_end|>");
            assertThat(f.tensorInfo("token_embd.weight").orElseThrow().shape()[1]).isEqualTo(tokens.length);
            assertThat(f.tensorInfo("output.weight").orElseThrow().shape()[1]).isEqualTo(tokens.length);
        }
    }

    @Test
    void sameSeedGivesIdenticalFilesAndOtherSeedsDiffer() throws IOException {
        Path a = write(maverickShaped(), FileType.Q4_0, 42, "a.gguf");
        Path b = write(maverickShaped(), FileType.Q4_0, 42, "b.gguf");
        Path c = write(maverickShaped(), FileType.Q4_0, 43, "c.gguf");
        assertThat(Files.mismatch(a, b)).isEqualTo(-1);
        assertThat(Files.mismatch(a, c)).isNotEqualTo(-1);
        // independent of the thread count (rows have their own random streams)
        Path single = dir.resolve("single.gguf");
        new SyntheticModelWriter(maverickShaped(), FileType.Q4_0, 42).threads(1).write(single);
        assertThat(Files.mismatch(a, single)).isEqualTo(-1);
    }

    @Test
    void floatTypesHoldTheSameBf16RoundedWeights() throws IOException {
        Path f32 = write(scoutShaped(), FileType.F32, 5, "f32.gguf");
        Path bf16 = write(scoutShaped(), FileType.BF16, 5, "bf16.gguf");
        try (GgufFile a = GgufFile.open(f32); GgufFile b = GgufFile.open(bf16)) {
            for (String name : List.of("token_embd.weight", "blk.2.attn_q.weight", "blk.3.ffn_down_exps.weight")) {
                float[] x = floats(a.tensor(name));
                assertThat(floats(b.tensor(name))).as(name).containsExactly(x);
                for (float v : x) {
                    assertThat(Float.floatToRawIntBits(v) & 0xffff).as("bf16-exact").isZero();
                }
            }
        }
    }

    @Test
    void weightsFollowTheFixtureDistributions() throws IOException {
        SyntheticModelConfig c = new SyntheticModelConfig("stats", 2048, 256, 4, 4, 2, 64, 4, 1, 512, 512, 2, 8192,
                true, 8192, 0.1f, 500000f, null, 1e-5f, 256);
        Path path = write(c, FileType.F32, 11, "stats.gguf");
        try (GgufFile f = GgufFile.open(path)) {
            double[] emb = meanStd(floats(f.tensor("token_embd.weight")));
            assertThat(emb[0]).isCloseTo(0, within(0.01));
            assertThat(emb[1]).isCloseTo(1, within(0.01));
            double[] q = meanStd(floats(f.tensor("blk.0.attn_q.weight")));
            assertThat(q[1]).isCloseTo(1 / Math.sqrt(256), within(0.002));
            // fan-in of a down projection is the FFN width
            double[] down = meanStd(floats(f.tensor("blk.1.ffn_down_exps.weight")));
            assertThat(down[1]).isCloseTo(1 / Math.sqrt(512), within(0.002));
            double[] norm = meanStd(floats(f.tensor("blk.0.attn_norm.weight")));
            assertThat(norm[0]).isCloseTo(1, within(0.03));
            assertThat(norm[1]).isCloseTo(0.1, within(0.02));
        }
    }

    @Test
    void quantizedFileFollowsTheRecipeAndDecodesNearTheFloatWeights() throws IOException {
        SyntheticModelConfig tiny = kQuantCapable();
        Path q = write(tiny, FileType.Q4_K_M, 9, "q.gguf");
        Path ref = write(tiny, FileType.F32, 9, "ref.gguf");
        SyntheticModelWriter plan = new SyntheticModelWriter(tiny, FileType.Q4_K_M, 9);
        try (GgufFile f = GgufFile.open(q); GgufFile r = GgufFile.open(ref)) {
            for (SyntheticModelWriter.PlannedTensor t : plan.tensors()) {
                GgufTensorInfo info = f.tensorInfo(t.name()).orElseThrow();
                assertThat(info.type()).as(t.name()).isEqualTo(t.type());
                assertThat(info.shape()).as(t.name()).containsExactly(t.shape());
            }
            float[] exact = floats(r.tensor("blk.0.attn_q.weight"));
            float[] decoded = floats(f.tensor("blk.0.attn_q.weight"));
            double err = 0;
            double norm = 0;
            for (int i = 0; i < exact.length; i++) {
                err += (exact[i] - decoded[i]) * (exact[i] - decoded[i]);
                norm += exact[i] * exact[i];
            }
            // Q4_K on Gaussian weights: relative RMS error about 0.1
            assertThat(Math.sqrt(err / norm)).isBetween(0.01, 0.2);
        }
    }

    @Test
    void presetsHaveTheAdvertisedShapeAndSize() {
        SyntheticModelConfig scout = SyntheticModelConfig.preset("scout-bench");
        assertThat(scout.hiddenSize()).isEqualTo(2048);
        assertThat(scout.vocabSize()).isEqualTo(32768);
        assertThat(scout.expertCount()).isEqualTo(16);
        assertThat(scout.expertsPerToken()).isEqualTo(1);
        assertThat(scout.interleaveMoeLayerStep()).isEqualTo(1);
        assertThat(scout.usesQkNorm()).isTrue();
        SyntheticModelConfig maverick = SyntheticModelConfig.preset("maverick-bench");
        assertThat(maverick.expertCount()).isEqualTo(128);
        assertThat(maverick.interleaveMoeLayerStep()).isEqualTo(2);
        assertThat(maverick.usesQkNorm()).isFalse();
        assertThat(maverick.isMoeLayer(0)).isFalse();
        assertThat(maverick.isMoeLayer(1)).isTrue();
        for (SyntheticModelConfig c : List.of(scout, maverick, scout.withVocabSize(SyntheticModelConfig.FULL_VOCAB_SIZE))) {
            for (FileType t : List.of(FileType.Q4_0, FileType.Q4_K_M)) {
                long bytes = new SyntheticModelWriter(c, t, 0).tensorDataBytes();
                assertThat(bytes).as("%s %s", c.name(), t).isBetween(1_000_000_000L, 3_000_000_000L);
            }
        }
        long tinyBytes = new SyntheticModelWriter(SyntheticModelConfig.preset("tiny"), FileType.BF16, 0)
                .tensorDataBytes();
        assertThat(tinyBytes).isLessThan(16_000_000L);
        assertThatThrownBy(() -> SyntheticModelConfig.preset("huge"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown preset 'huge'")
                .hasMessageContaining("scout-bench");
    }

    @Test
    void progressReportsEveryTensorOnce() throws IOException {
        List<String> seen = new ArrayList<>();
        long[] last = new long[2];
        SyntheticModelWriter w = new SyntheticModelWriter(scoutShaped(), FileType.Q8_0, 1)
                .progress((t, i, n, done, total) -> {
                    seen.add(t.name());
                    last[0] = done;
                    last[1] = total;
                });
        w.write(dir.resolve("p.gguf"));
        assertThat(seen).containsExactlyElementsOf(w.tensors().stream().map(SyntheticModelWriter.PlannedTensor::name).toList());
        assertThat(last[0]).isEqualTo(last[1]).isEqualTo(w.tensorDataBytes());
    }

    @Test
    void rowsThatNoTypeCanHoldAreRejectedBeforeWriting() {
        // hidden 48: rows of 48 are no multiple of Q4_0's 32-value blocks and llama.cpp has no fallback for Q4_0
        SyntheticModelConfig odd = new SyntheticModelConfig("odd", 512, 48, 4, 3, 1, 16, 4, 1, 64, 64, 1, 16, true, 8,
                0.1f, 500000f, null, 1e-5f, 256);
        assertThatThrownBy(() -> new SyntheticModelWriter(odd, FileType.Q4_0, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token_embd.weight").hasMessageContaining("q4_0").hasMessageContaining("48");
        // llama.cpp fails the same way for K-quant mixes: output.weight becomes Q8_0 (rows not a multiple of 256)
        assertThatThrownBy(() -> new SyntheticModelWriter(odd, FileType.Q4_K_M, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("output.weight")
                .hasMessageContaining("Q8_0");
    }

    static GgmlType typeOf(SyntheticModelWriter w, String name) {
        return w.tensors().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow().type();
    }

    static Map<String, GgmlType> types(SyntheticModelWriter w) {
        Map<String, GgmlType> out = new LinkedHashMap<>();
        w.tensors().forEach(t -> out.put(t.name(), t.type()));
        return out;
    }

    private static void assertShape(GgufFile f, String name, GgmlType type, long... shape) {
        GgufTensorInfo info = f.tensorInfo(name).orElseThrow(() -> new AssertionError("missing tensor " + name));
        assertThat(info.type()).as(name).isEqualTo(type);
        assertThat(info.shape()).as(name).containsExactly(shape);
    }

    static float[] floats(Tensor t) {
        int rowLength = Math.toIntExact(t.shape()[0]);
        long rows = 1;
        for (int i = 1; i < t.shape().length; i++) {
            rows *= t.shape()[i];
        }
        float[] out = new float[Math.toIntExact(rows * rowLength)];
        for (long r = 0; r < rows; r++) {
            t.dequantizeRow(r, out, Math.toIntExact(r * rowLength));
        }
        return out;
    }

    private static double[] meanStd(float[] x) {
        double sum = 0;
        double sq = 0;
        for (float v : x) {
            sum += v;
            sq += (double) v * v;
        }
        double mean = sum / x.length;
        return new double[] {mean, Math.sqrt(sq / x.length - mean * mean)};
    }
}
