package org.llama4j.format.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llama4j.format.hf.SyntheticFolders.config;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.safetensors.SafetensorsDtype;
import org.llama4j.format.safetensors.SafetensorsWriter;
import org.llama4j.tensor.Fp8E4M3;
import org.llama4j.tensor.Fp8RowScaledTensor;
import org.llama4j.tensor.Tensor;

/** HfModelFolder on folders the test generates: configs, shard validation, FP8 resolution, and their errors. */
class HfModelFolderTest {
    @TempDir
    Path tmp;

    private static void assertError(Path dir, String... expected) {
        var e = assertThrows(ModelFormatException.class, () -> HfModelFolder.open(dir).close());
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "expected \"" + s + "\" in: " + e.getMessage());
        }
    }

    // --- config.json and architectures ---

    @Test
    void textOnlyArchitecturesKeepSettingsAtTopLevel() throws IOException {
        for (String arch : List.of("Llama4ForCausalLM", "LlamaForCausalLM")) {
            Path dir = SyntheticFolders.singleFile(tmp.resolve(arch), config(arch, ""));
            try (HfModelFolder m = HfModelFolder.open(dir)) {
                assertEquals(arch, m.architecture().hfName());
                assertEquals(m.config(), m.textConfig());
                assertEquals(8, m.textConfig().get("hidden_size").asInt());
                assertTrue(m.visionConfig().isEmpty());
                assertTrue(m.tokenizerJson().isEmpty());
                assertEquals(dir, m.dir());
            }
        }
    }

    @Test
    void conditionalGenerationReadsTextConfig() throws IOException {
        Path dir = SyntheticFolders.singleFile(tmp.resolve("cg"), """
                {"architectures": ["Llama4ForConditionalGeneration"], "text_config": {"hidden_size": 8},
                 "vision_config": {"hidden_size": 4}}""");
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        try (HfModelFolder m = HfModelFolder.open(dir)) {
            assertEquals(8, m.textConfig().get("hidden_size").asInt());
            assertEquals(4, m.visionConfig().orElseThrow().get("hidden_size").asInt());
            assertEquals(dir.resolve("tokenizer.json"), m.tokenizerJson().orElseThrow());
        }
        assertError(SyntheticFolders.singleFile(tmp.resolve("no-text"),
                "{\"architectures\": [\"Llama4ForConditionalGeneration\"]}"), "needs a \"text_config\" object");
    }

    @Test
    void unsupportedOrMissingArchitectureIsNamed() throws IOException {
        assertError(SyntheticFolders.singleFile(tmp.resolve("mistral"), config("MistralForCausalLM", "")),
                "architecture MistralForCausalLM is not supported",
                "Llama4ForConditionalGeneration, Llama4ForCausalLM, LlamaForCausalLM");
        assertError(SyntheticFolders.singleFile(tmp.resolve("none"), "{\"hidden_size\": 8}"),
                "missing or empty \"architectures\"");
        assertError(SyntheticFolders.singleFile(tmp.resolve("bad-json"), "{\"architectures\": [\"Llama"),
                "config.json: not valid JSON");
    }

    @Test
    void missingPiecesAreClearErrors() throws IOException {
        assertError(tmp.resolve("absent"), "not a directory");
        Files.createDirectories(tmp.resolve("empty"));
        assertError(tmp.resolve("empty"), "no config.json");
        SyntheticFolders.writeConfig(tmp.resolve("no-weights"), config("LlamaForCausalLM", ""));
        assertError(tmp.resolve("no-weights"), "no weights: expected model.safetensors or model.safetensors.index.json");
    }

    @Test
    void tensorLookup() throws IOException {
        Path dir = SyntheticFolders.singleFile(tmp.resolve("m"), config("Llama4ForCausalLM", ""));
        try (HfModelFolder m = HfModelFolder.open(dir)) {
            assertEquals(SyntheticFolders.textModelTensors().keySet(), m.tensorNames());
            assertArrayEquals(new long[] {12, 8, 2}, m.tensor("model.layers.0.feed_forward.experts.gate_up_proj").shape());
            assertTrue(m.findTensor("model.layers.1.self_attn.q_proj.weight").isEmpty());
            var e = assertThrows(ModelFormatException.class, () -> m.tensor("nope"));
            assertTrue(e.getMessage().contains("no tensor \"nope\" in [model.safetensors]"), e.getMessage());
        }
    }

    // --- sharded folders ---

    @Test
    void shardedFolderMatchesSingleFile() throws IOException {
        var shards = SyntheticFolders.roundRobin(3);
        Path sharded = SyntheticFolders.sharded(tmp.resolve("sharded"), shards, SyntheticFolders.weightMapOf(shards));
        Path single = SyntheticFolders.singleFile(tmp.resolve("single"), config("Llama4ForCausalLM", ""));
        try (HfModelFolder a = HfModelFolder.open(single); HfModelFolder b = HfModelFolder.open(sharded)) {
            assertEquals(3, b.weightFiles().size());
            assertEquals(a.tensorNames().size(), b.tensorNames().size());
            for (String name : a.tensorNames()) {
                assertArrayEquals(a.tensor(name).shape(), b.tensor(name).shape(), name);
                assertArrayEquals(a.tensor(name).toFloatArray(), b.tensor(name).toFloatArray(), name);
            }
            assertEquals(sharded.resolve(SyntheticFolders.shardName(1, 3)),
                    b.fileOf(shards.get(1).getFirst()));
        }
    }

    @Test
    void missingShard() throws IOException {
        var shards = SyntheticFolders.roundRobin(2);
        Map<String, String> map = SyntheticFolders.weightMapOf(shards);
        map.put("model.layers.0.self_attn.q_proj.weight", "model-00003-of-00003.safetensors");
        shards.get(1).remove("model.layers.0.self_attn.q_proj.weight");
        assertError(SyntheticFolders.sharded(tmp.resolve("d"), shards, map),
                "shard \"model-00003-of-00003.safetensors\" (listed for \"model.layers.0.self_attn.q_proj.weight\")",
                "does not exist");
    }

    @Test
    void tensorListedButAbsentFromItsShard() throws IOException {
        var shards = SyntheticFolders.roundRobin(3);
        Map<String, String> map = SyntheticFolders.weightMapOf(shards);
        map.put("model.layers.7.self_attn.q_proj.weight", SyntheticFolders.shardName(0, 3));
        assertError(SyntheticFolders.sharded(tmp.resolve("d"), shards, map),
                "weight_map lists tensor \"model.layers.7.self_attn.q_proj.weight\" in \"model-00001-of-00003",
                "that shard has no such tensor");
    }

    @Test
    void tensorStoredButNotInMap() throws IOException {
        var shards = SyntheticFolders.roundRobin(3);
        Map<String, String> map = SyntheticFolders.weightMapOf(shards);
        map.remove("lm_head.weight");
        assertError(SyntheticFolders.sharded(tmp.resolve("d"), shards, map),
                "tensor \"lm_head.weight\" is stored in", "but missing from weight_map");
    }

    @Test
    void duplicateTensorAcrossShards() throws IOException {
        var shards = SyntheticFolders.roundRobin(3);
        Map<String, String> map = SyntheticFolders.weightMapOf(shards);
        String name = shards.getFirst().getFirst();
        shards.get(2).add(name);
        assertError(SyntheticFolders.sharded(tmp.resolve("d"), shards, map),
                "tensor \"" + name + "\" is stored in both \"model-00001-of-00003.safetensors\" and \"model-00003");
    }

    @Test
    void mapPointsAtTheWrongShard() throws IOException {
        var shards = SyntheticFolders.roundRobin(2);
        Map<String, String> map = SyntheticFolders.weightMapOf(shards);
        String name = shards.getFirst().getFirst();
        map.put(name, SyntheticFolders.shardName(1, 2));
        assertError(SyntheticFolders.sharded(tmp.resolve("d"), shards, map),
                "weight_map puts tensor \"" + name + "\" in \"model-00002-of-00002.safetensors\", but it is stored in");
    }

    @Test
    void malformedIndex() throws IOException {
        var shards = SyntheticFolders.roundRobin(2);
        Path dir = SyntheticFolders.sharded(tmp.resolve("d"), shards, SyntheticFolders.weightMapOf(shards));
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a\": ");
        assertError(dir, "model.safetensors.index.json: not valid JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        assertError(dir, "missing or non-object \"weight_map\"");
        Files.writeString(index, "{\"weight_map\": {}}");
        assertError(dir, "weight_map is empty");
        Files.writeString(index, "{\"weight_map\": {\"lm_head.weight\": 3}}");
        assertError(dir, "weight_map entry \"lm_head.weight\" must name a shard file");
        Files.writeString(index, "{\"weight_map\": {\"lm_head.weight\": \"../model.safetensors\"}}");
        assertError(dir, "not a file name inside the model folder");
        Files.writeString(index, "{\"weight_map\": {\"lm_head.weight\": \"a\\u0000b\"}}");
        assertError(dir, "not a file name inside the model folder");
    }

    // --- FP8 (compressed-tensors) ---

    private static final String FP8_CONFIG = config("Llama4ForCausalLM",
            "\"quantization_config\": " + SyntheticFolders.FP8_QUANTIZATION_CONFIG);

    /**
     * Writes the text model with q_proj (and optionally the router) as FP8; q_proj's scale has the given dtype and
     * shape, the router's is a well-formed per-row bf16 scale.
     */
    private Path fp8Folder(String dirName, String config, boolean quantizeRouter, SafetensorsDtype scaleType,
            long[] scaleShape) throws IOException {
        Path dir = tmp.resolve(dirName);
        SyntheticFolders.writeConfig(dir, config);
        SafetensorsWriter w = SafetensorsWriter.create(dir.resolve("model.safetensors"));
        for (var e : SyntheticFolders.textModelTensors().entrySet()) {
            String name = e.getKey();
            boolean fp8 = name.endsWith("q_proj.weight") || (quantizeRouter && name.endsWith("router.weight"));
            if (!fp8) {
                SyntheticFolders.addBf16(w, name, e.getValue());
                continue;
            }
            long[] shape = e.getValue();
            byte[] data = new byte[(int) (shape[0] * shape[1])];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 37 % 0x7e); // every magnitude code, positive and (odd rows) negative
                if (i / shape[1] % 2 == 1) {
                    data[i] |= (byte) 0x80;
                }
            }
            w.add(name, SafetensorsDtype.F8_E4M3, shape, MemorySegment.ofArray(data));
            long[] thisScaleShape = name.endsWith("q_proj.weight") ? scaleShape : new long[] {shape[0], 1};
            long scales = 1;
            for (long d : thisScaleShape) {
                scales *= d;
            }
            float[] s = new float[(int) scales];
            for (int i = 0; i < s.length; i++) {
                s[i] = 0.5f + i / 4f;
            }
            if (scaleType == SafetensorsDtype.I64) {
                w.add(name + "_scale", scaleType, thisScaleShape, MemorySegment.ofArray(new long[s.length]));
            } else {
                w.addFloats(name + "_scale", scaleType, thisScaleShape, s);
            }
        }
        w.write();
        return dir;
    }

    @Test
    void fp8WeightsCombineWithPerRowScales() throws IOException {
        for (SafetensorsDtype scaleType : List.of(SafetensorsDtype.BF16, SafetensorsDtype.F32)) {
            Path dir = fp8Folder("fp8-" + scaleType, FP8_CONFIG, false, scaleType, new long[] {8, 1});
            try (HfModelFolder m = HfModelFolder.open(dir)) {
                assertEquals(List.of("language_model.lm_head", "lm_head", "re:.*feed_forward\\.router$"),
                        m.quantization().orElseThrow().ignore());
                Tensor q = m.tensor("model.layers.0.self_attn.q_proj.weight");
                var fp8 = assertInstanceOf(Fp8RowScaledTensor.class, q);
                assertEquals("F8_E4M3", q.typeName());
                assertArrayEquals(new long[] {8, 8}, q.shape());
                byte[] raw = fp8.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                float[] row = new float[8];
                for (int r = 0; r < 8; r++) {
                    q.dequantizeRow(r, row, 0);
                    for (int i = 0; i < 8; i++) {
                        assertEquals(Fp8E4M3.decode(raw[r * 8 + i]) * (0.5f + r / 4f), row[i], "row " + r);
                    }
                }
                assertEquals(scaleType.name(), m.tensor("model.layers.0.self_attn.q_proj.weight_scale").typeName());
                assertEquals("BF16", m.tensor("lm_head.weight").typeName());
            }
        }
    }

    @Test
    void fp8PerTensorScale() throws IOException {
        Path dir = fp8Folder("fp8-tensor", FP8_CONFIG, false, SafetensorsDtype.F32, new long[] {});
        try (HfModelFolder m = HfModelFolder.open(dir)) {
            var t = (Fp8RowScaledTensor) m.tensor("model.layers.0.self_attn.q_proj.weight");
            assertEquals(0.5f, t.scale(0));
            assertEquals(0.5f, t.scale(7));
        }
    }

    @Test
    void fp8Errors() throws IOException {
        assertError(fp8Folder("no-qc", config("Llama4ForCausalLM", ""), false, SafetensorsDtype.BF16, new long[] {8, 1}),
                "F8_E4M3 tensor \"model.layers.0.self_attn.q_proj.weight\"", "has no quantization_config");
        assertError(fp8Folder("ignored", FP8_CONFIG, true, SafetensorsDtype.BF16, new long[] {8, 1}),
                "module \"model.layers.0.feed_forward.router\" is in quantization_config.ignore");
        assertError(fp8Folder("bad-scale-shape", FP8_CONFIG, false, SafetensorsDtype.BF16, new long[] {4, 1}),
                "scale \"model.layers.0.self_attn.q_proj.weight_scale\" has shape [4, 1] (4 values), expected one per row (8");
        assertError(fp8Folder("int-scale", FP8_CONFIG, false, SafetensorsDtype.I64, new long[] {8, 1}),
                "has dtype I64, expected F32, BF16 or F16");

        Path noScale = fp8Folder("no-scale", FP8_CONFIG, false, SafetensorsDtype.BF16, new long[] {8, 1});
        // Rewrite the folder without the scale tensor.
        List<String> names = new ArrayList<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (var f = org.llama4j.format.safetensors.SafetensorsFile.open(noScale.resolve("model.safetensors"))) {
            SafetensorsWriter w = SafetensorsWriter.create(noScale.resolve("copy.safetensors"));
            for (String n : f.tensorNames()) {
                if (!n.endsWith("_scale")) {
                    w.add(n, f.info(n).dtype(), f.info(n).shape(), f.rawData(n));
                    names.add(n);
                    shapes.put(n, f.info(n).shape());
                }
            }
            w.write();
        }
        Files.move(noScale.resolve("copy.safetensors"), noScale.resolve("model.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertError(noScale, "no tensor \"model.layers.0.self_attn.q_proj.weight_scale\" (the scale of F8_E4M3 tensor");
        assertFalse(names.isEmpty());
    }

    @Test
    void unsupportedQuantizationConfigs() throws IOException {
        assertError(SyntheticFolders.singleFile(tmp.resolve("fbgemm"), config("Llama4ForCausalLM",
                "\"quantization_config\": {\"quant_method\": \"fbgemm_fp8\"}")),
                "quantization_config.quant_method \"fbgemm_fp8\" is not supported");
        assertError(SyntheticFolders.singleFile(tmp.resolve("block"), config("Llama4ForCausalLM",
                "\"quantization_config\": " + SyntheticFolders.FP8_QUANTIZATION_CONFIG.replace("\"channel\"", "\"block\""))),
                "config_groups.group_0.weights.strategy \"block\" is not supported");
        assertError(SyntheticFolders.singleFile(tmp.resolve("int4"), config("Llama4ForCausalLM",
                "\"quantization_config\": " + SyntheticFolders.FP8_QUANTIZATION_CONFIG
                        .replace("\"num_bits\": 8, \"type\": \"float\", \"strategy\": \"channel\"",
                                "\"num_bits\": 4, \"type\": \"int\", \"strategy\": \"group\""))),
                "4-bit int weights are not supported");
        assertError(SyntheticFolders.singleFile(tmp.resolve("regex"), config("Llama4ForCausalLM",
                "\"quantization_config\": {\"quant_method\": \"compressed-tensors\", \"ignore\": [\"re:(\"]}")),
                "bad regular expression");
    }

    @Test
    void ignoreMatchesNamesExactlyAndRegexesFromTheStart() {
        var q = new CompressedTensorsConfig("float-quantized", List.of("lm_head", "re:.*router$", "re:vision_model"));
        assertTrue(q.isIgnored("lm_head"));
        assertFalse(q.isIgnored("language_model.lm_head"));
        assertTrue(q.isIgnored("model.layers.3.feed_forward.router"));
        assertFalse(q.isIgnored("model.layers.3.feed_forward.router.extra"));
        assertTrue(q.isIgnored("vision_model.patch_embedding.linear"));
        assertFalse(q.isIgnored("model.vision_model.x"), "re: anchors at the start, like Python re.match");
        assertEquals("a.b", CompressedTensorsConfig.moduleOf("a.b.weight"));
        assertEquals("a.gate_up_proj", CompressedTensorsConfig.moduleOf("a.gate_up_proj"));
    }
}
