package org.llama4j.format.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llama4j.format.safetensors.SafetensorsDtype;
import org.llama4j.format.safetensors.SafetensorsWriter;
import org.llama4j.format.safetensors.TensorInfo;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.Fp8RowScaledTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;
import org.llama4j.testing.Fixtures;

/** The fixture model folders open, and their weights agree with Meta's reference goldens. */
class HfModelFolderFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"llama4-tiny/tiny-scout", "llama4-tiny/tiny-maverick", "llama4-tiny/long-context",
            "llama4-vision-tiny", "llama3-tiny"})
    void everyFixtureFolderOpens(String folder) {
        Path dir = Fixtures.require(folder);
        try (HfModelFolder m = HfModelFolder.open(dir)) {
            JsonNode text = m.textConfig();
            int hidden = text.get("hidden_size").asInt();
            int vocab = text.get("vocab_size").asInt();
            int layers = text.get("num_hidden_layers").asInt();
            String prefix = m.architecture() == HfArchitecture.LLAMA4_CONDITIONAL_GENERATION ? "language_model." : "";
            Tensor embed = m.tensor(prefix + "model.embed_tokens.weight");
            assertArrayEquals(new long[] {hidden, vocab}, embed.shape());
            assertEquals("BF16", embed.typeName());
            assertTrue(m.contains(prefix + "model.layers." + (layers - 1) + ".self_attn.q_proj.weight"));
            for (String name : m.tensorNames()) {
                Tensor t = m.tensor(name);
                assertArrayEquals(m.info(name).ggmlShape(), t.shape(), name);
                assertEquals(m.info(name).byteSize(), t.byteSize(), name);
            }
            assertTrue(m.quantization().isEmpty());
        }
    }

    @Test
    void llama4ConfigAndExpertLayout() {
        try (HfModelFolder m = HfModelFolder.open(Fixtures.require("llama4-tiny/tiny-scout"))) {
            assertEquals(HfArchitecture.LLAMA4_CONDITIONAL_GENERATION, m.architecture());
            assertEquals("llama4_text", m.textConfig().get("model_type").asText());
            assertEquals(m.config().get("text_config"), m.textConfig());
            assertTrue(m.visionConfig().isEmpty());
            // [E, D, 2F] input-major, exposed as ggml {2F, D, E}.
            String experts = "language_model.model.layers.0.feed_forward.experts.";
            assertArrayEquals(new long[] {4, 64, 256}, m.info(experts + "gate_up_proj").shape());
            assertArrayEquals(new long[] {256, 64, 4}, m.tensor(experts + "gate_up_proj").shape());
            assertArrayEquals(new long[] {64, 128, 4}, m.tensor(experts + "down_proj").shape());
            assertTrue(m.findTensor("language_model.lm_head.weight").isPresent());
            assertTrue(m.findTensor("lm_head.weight").isEmpty());
        }
    }

    @Test
    void llama3ConfigIsTopLevelAndEmbeddingsAreTied() {
        try (HfModelFolder m = HfModelFolder.open(Fixtures.require("llama3-tiny"))) {
            assertEquals(HfArchitecture.LLAMA_CAUSAL_LM, m.architecture());
            assertEquals(m.config(), m.textConfig());
            assertTrue(m.findTensor("lm_head.weight").isEmpty());
        }
    }

    @Test
    void visionFolderExposesVisionTowerAndSideFiles() {
        try (HfModelFolder m = HfModelFolder.open(Fixtures.require("llama4-vision-tiny"))) {
            assertEquals(32, m.visionConfig().orElseThrow().get("hidden_size").asInt());
            assertTrue(m.tokenizerJson().isPresent());
            assertTrue(m.tokenizerConfigJson().isPresent());
            assertTrue(m.preprocessorConfigJson().isPresent());
            assertEquals(List.of(m.dir().resolve("model.safetensors")), m.weightFiles());
            assertArrayEquals(new long[] {588, 32}, m.tensor("vision_model.patch_embedding.linear.weight").shape());
            assertArrayEquals(new long[] {32}, m.tensor("vision_model.class_embedding").shape());
        }
    }

    /** Row 0 of the golden hidden states is the token embedding: the mapped bf16 rows must equal it bit for bit. */
    @ParameterizedTest
    @ValueSource(strings = {"llama4-tiny/tiny-scout", "llama3-tiny"})
    void embeddingRowsMatchReferenceHiddenStates(String folder) throws IOException {
        Path dir = Fixtures.require(folder);
        JsonNode hs = JSON.readTree(dir.resolve("golden/index.json").toFile()).get("hidden_states");
        float[] golden = readFloats(dir.resolve("golden").resolve(hs.get("file").asText()));
        try (HfModelFolder m = HfModelFolder.open(dir)) {
            String prefix = m.architecture() == HfArchitecture.LLAMA4_CONDITIONAL_GENERATION ? "language_model." : "";
            Tensor embed = m.tensor(prefix + "model.embed_tokens.weight");
            int d = (int) embed.rowLength();
            float[] row = new float[d];
            JsonNode tokens = hs.get("tokens");
            for (int i = 0; i < tokens.size(); i++) {
                embed.dequantizeRow(tokens.get(i).asInt(), row, 0);
                assertArrayEquals(java.util.Arrays.copyOfRange(golden, i * d, (i + 1) * d), row, "token " + i);
            }
        }
    }

    /** logits = final-norm hidden · lm_headᵀ exactly in the reference: dotRow over the mapped lm_head agrees. */
    @Test
    void lmHeadDotsReproduceReferenceLogits() throws IOException {
        Path dir = Fixtures.require("llama4-tiny/tiny-scout");
        JsonNode seq = JSON.readTree(dir.resolve("golden/index.json").toFile()).get("sequences").get(1);
        float[] hidden = readFloats(dir.resolve("golden").resolve(seq.get("final_norm_hidden_file").asText()));
        float[] logits = readFloats(dir.resolve("golden").resolve(seq.get("logits_file").asText()));
        try (HfModelFolder m = HfModelFolder.open(dir)) {
            Tensor lmHead = m.tensor("language_model.lm_head.weight");
            int d = (int) lmHead.rowLength();
            int vocab = (int) lmHead.rowCount();
            JsonNode positions = seq.get("logits_positions");
            for (int p = 0; p < positions.size(); p++) {
                int pos = positions.get(p).asInt();
                for (int v = 0; v < vocab; v += 97) {
                    float expected = logits[p * vocab + v];
                    assertEquals(expected, lmHead.dotRow(v, hidden, pos * d), 1e-4f * (1 + Math.abs(expected)),
                            "position " + pos + " token " + v);
                }
            }
        }
    }

    /** Splitting a fixture over three shards with an index gives exactly the same tensors. */
    @Test
    void shardedCopyOfFixtureGivesIdenticalTensors() throws IOException {
        Path src = Fixtures.require("llama4-tiny/tiny-scout");
        Path dst = tmp.resolve("sharded");
        try (HfModelFolder single = HfModelFolder.open(src)) {
            Files.createDirectories(dst);
            Files.copy(src.resolve("config.json"), dst.resolve("config.json"));
            List<String> names = new ArrayList<>(single.tensorNames());
            Map<String, String> weightMap = new LinkedHashMap<>();
            for (int s = 0; s < 3; s++) {
                String shard = "model-0000" + (s + 1) + "-of-00003.safetensors";
                SafetensorsWriter w = SafetensorsWriter.create(dst.resolve(shard)).metadata("format", "pt");
                for (int i = s; i < names.size(); i += 3) {
                    TensorInfo info = single.info(names.get(i));
                    w.add(info.name(), info.dtype(), info.shape(), ((BlockTensor) single.tensor(info.name())).data());
                    weightMap.put(info.name(), shard);
                }
                w.write();
            }
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", 0);
            weightMap.forEach(index.putObject("weight_map")::put);
            JSON.writeValue(dst.resolve("model.safetensors.index.json").toFile(), index);

            try (HfModelFolder sharded = HfModelFolder.open(dst)) {
                assertEquals(3, sharded.weightFiles().size());
                assertEquals(single.tensorNames(), java.util.Set.copyOf(sharded.tensorNames()));
                for (String name : names) {
                    Tensor a = single.tensor(name);
                    Tensor b = sharded.tensor(name);
                    assertArrayEquals(a.shape(), b.shape(), name);
                    assertEquals(a.typeName(), b.typeName(), name);
                    assertArrayEquals(a.toFloatArray(), b.toFloatArray(), name);
                }
                assertTrue(sharded.fileOf(names.get(1)).endsWith("model-00002-of-00003.safetensors"));
            }
        }
    }

    /**
     * The FP8 path end to end: tiny-scout's 2-D linear weights quantized to E4M3 with per-row bf16 scales, written
     * as a compressed-tensors folder; reopened, each weight dequantizes to within FP8's rounding of the bf16
     * original, and the ignored modules (lm_head, routers) stay bf16.
     */
    @Test
    void fp8FolderDequantizesCloseToBf16AndKeepsIgnoredModules() throws IOException {
        Path src = Fixtures.require("llama4-tiny/tiny-scout");
        Path dst = tmp.resolve("fp8");
        List<String> quantized = new ArrayList<>();
        try (HfModelFolder bf16 = HfModelFolder.open(src)) {
            ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
            config.set("quantization_config", JSON.readTree(SyntheticFolders.FP8_QUANTIZATION_CONFIG));
            CompressedTensorsConfig q = CompressedTensorsConfig.parse(dst, config.get("quantization_config"));
            Files.createDirectories(dst);
            JSON.writeValue(dst.resolve("config.json").toFile(), config);
            SafetensorsWriter w = SafetensorsWriter.create(dst.resolve("model.safetensors"));
            for (String name : bf16.tensorNames()) {
                TensorInfo info = bf16.info(name);
                Tensor t = bf16.tensor(name);
                boolean linear = name.endsWith("_proj.weight") || name.endsWith("lm_head.weight")
                        || name.endsWith("router.weight");
                if (linear && !q.isIgnored(CompressedTensorsConfig.moduleOf(name))) {
                    var rows = Fp8RowScaledTensor.quantizeRows(t.toFloatArray(), (int) t.rowLength(), GgmlType.BF16);
                    w.add(name, SafetensorsDtype.F8_E4M3, info.shape(), java.lang.foreign.MemorySegment.ofArray(rows.data()));
                    w.addFloats(name + "_scale", SafetensorsDtype.BF16, new long[] {t.rowCount(), 1}, rows.scales());
                    quantized.add(name);
                } else {
                    w.add(name, info.dtype(), info.shape(), ((BlockTensor) t).data());
                }
            }
            w.write();

            try (HfModelFolder fp8 = HfModelFolder.open(dst)) {
                assertTrue(fp8.quantization().isPresent());
                // 4 layers × (q, k, v, o + shared gate, up, down)
                assertEquals(28, quantized.size());
                for (String name : quantized) {
                    Tensor original = bf16.tensor(name);
                    Tensor t = fp8.tensor(name);
                    assertInstanceOf(Fp8RowScaledTensor.class, t, name);
                    assertEquals("F8_E4M3", t.typeName());
                    assertArrayEquals(original.shape(), t.shape(), name);
                    float[] exact = original.toFloatArray();
                    float[] approx = t.toFloatArray();
                    int len = (int) t.rowLength();
                    double errSq = 0;
                    double normSq = 0;
                    for (int r = 0; r < t.rowCount(); r++) {
                        float absMax = 0;
                        for (int i = r * len; i < (r + 1) * len; i++) {
                            absMax = Math.max(absMax, Math.abs(exact[i]));
                        }
                        for (int i = r * len; i < (r + 1) * len; i++) {
                            // 3 mantissa bits: ≤ 1/16 relative for normals; subnormal step 2^-9 of the scale; plus
                            // the bf16 rounding of the scale itself (≤ 2^-8 relative).
                            double bound = Math.abs(exact[i]) * (1.0 / 16 + 1.0 / 256) + absMax / 448 * 0x1p-9 * 1.01;
                            assertTrue(Math.abs(approx[i] - exact[i]) <= bound,
                                    name + "[" + i + "]: " + approx[i] + " vs " + exact[i]);
                            errSq += (approx[i] - exact[i]) * (double) (approx[i] - exact[i]);
                            normSq += exact[i] * (double) exact[i];
                        }
                    }
                    assertTrue(Math.sqrt(errSq / normSq) < 0.04, name + " relative rms error " + Math.sqrt(errSq / normSq));
                    assertTrue(errSq > 0, name + " was really quantized");
                }
                for (String name : List.of("language_model.lm_head.weight",
                        "language_model.model.layers.2.feed_forward.router.weight",
                        "language_model.model.layers.0.feed_forward.experts.gate_up_proj")) {
                    Tensor t = fp8.tensor(name);
                    assertEquals("BF16", t.typeName(), name);
                    assertArrayEquals(bf16.tensor(name).toFloatArray(), t.toFloatArray(), name);
                }
                assertFalse(fp8.contains("language_model.lm_head.weight_scale"));
            }
        }
    }

    static float[] readFloats(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }
}
