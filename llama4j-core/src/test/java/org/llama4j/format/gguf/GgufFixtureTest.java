package org.llama4j.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.format.ModelFormatException;
import org.llama4j.tensor.BlockCodecs;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;
import org.llama4j.testing.Fixtures;

/** Every GGUF of the llama4-tiny and llama3-tiny fixtures opens, and agrees with the facts in their READMEs. */
class GgufFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static List<Path> fixtureGgufs() throws IOException {
        List<Path> files = new java.util.ArrayList<>();
        for (String dir : List.of("llama4-tiny", "llama3-tiny")) {
            Path root = Fixtures.require(dir);
            try (Stream<Path> s = Files.walk(root)) {
                s.filter(p -> p.getFileName().toString().endsWith(".gguf")).sorted().forEach(files::add);
            }
        }
        return files;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtureGgufs")
    void opensAndEveryTensorIsReadable(Path file) {
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.alignment()).isEqualTo(32);
            String arch = f.getString("general.architecture");
            assertThat(arch).isEqualTo(file.toString().contains("llama3-tiny") ? "llama" : "llama4");
            int vocab = f.getStringArray("tokenizer.ggml.tokens").length;
            assertThat(f.getIntArray("tokenizer.ggml.token_type")).hasSize(vocab);
            assertThat(f.getInt(arch + ".vocab_size")).isEqualTo(vocab);
            if (f.tensorInfos().isEmpty()) {
                return; // the vocabulary-only file
            }
            assertThat(f.dataOffset() % 32).isZero();
            for (GgufTensorInfo info : f.tensorInfos()) {
                assertThat(info.offset() % f.alignment()).isZero();
                assertThat(f.dataOffset() + info.offset() + info.byteSize()).isLessThanOrEqualTo(Files.size(file));
                Tensor t = f.tensor(info.name());
                assertThat(t.shape()).containsExactly(info.shape());
                assertThat(t.byteSize()).isEqualTo(info.byteSize());
                assertThat(t.typeName()).isEqualTo(info.type().name());
            }
            long embd = f.getLong(arch + ".embedding_length");
            assertThat(f.tensorInfo("token_embd.weight").orElseThrow().shape()).containsExactly(embd, vocab);
            assertThat(f.tensorInfo("output_norm.weight").orElseThrow().type()).isEqualTo(GgmlType.F32);
            int layers = f.getInt(arch + ".block_count");
            for (int i = 0; i < layers; i++) {
                for (String n : List.of("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm")) {
                    assertThat(f.tensorInfo("blk." + i + "." + n + ".weight")).as("blk.%d.%s", i, n).isPresent();
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void vocabularyGgufHoldsTheFullLlama4Tokenizer() {
        Path file = Fixtures.require("llama4-tiny/llama4-vocab.gguf");
        // The fastest of 3 opens (the first also warms class loading and the page cache): ~100 ms on a 2-core
        // machine; a second would mean something quadratic or needless copying crept into the metadata parser.
        long bestMs = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            GgufFile.open(file).close();
            bestMs = Math.min(bestMs, (System.nanoTime() - t0) / 1_000_000);
        }
        assertThat(bestMs).as("open time of the 13 MB vocabulary GGUF, ms").isLessThan(1000);
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.tensorInfos()).isEmpty();
            assertThat(f.getString("general.type")).isEqualTo("vocab");
            assertThat(f.getString("tokenizer.ggml.model")).isEqualTo("gpt2");
            assertThat(f.getString("tokenizer.ggml.pre")).isEqualTo("llama4");
            String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
            assertThat(tokens).hasSize(202048);
            assertThat(f.getStringArray("tokenizer.ggml.merges")).hasSize(439802);
            assertThat(tokens[200000]).isEqualTo("<|begin_of_text|>");
            assertThat(tokens[200008]).isEqualTo("<|eot|>");
            assertThat(f.getInt("tokenizer.ggml.bos_token_id")).isEqualTo(200000);
            assertThat(f.getInt("tokenizer.ggml.eos_token_id")).isEqualTo(200001);
            assertThat(f.getInt("tokenizer.ggml.eot_token_id")).isEqualTo(200008);
            assertThat(f.getInt("tokenizer.ggml.padding_token_id")).isEqualTo(200018);
            assertThat(f.getBoolean("tokenizer.ggml.add_bos_token")).isTrue();
            assertThat(f.getBoolean("tokenizer.ggml.add_eos_token")).isFalse();
            int[] types = f.getIntArray("tokenizer.ggml.token_type");
            assertThat(types[0]).isEqualTo(1);
            for (int i = 200000; i < 202048; i++) {
                assertThat(types[i]).as("token type of special %d", i).isEqualTo(3);
            }
            assertThat(f.getString("tokenizer.chat_template")).startsWith("{{- bos_token }}");
            assertThatThrownBy(() -> f.tensor("token_embd.weight")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("'token_embd.weight' is absent");
        }
    }

    /** The ggml types occurring in each quantized GGUF are exactly those golden/index.json lists. */
    @Test
    void tensorTypesMatchTheGoldenIndex() throws IOException {
        Path root = Fixtures.require("llama4-tiny");
        int checked = 0;
        for (String model : List.of("tiny-scout", "tiny-k", "tiny-maverick", "long-context")) {
            JsonNode quantized = JSON.readTree(root.resolve(model + "/golden/index.json").toFile()).path("quantized");
            for (var it = quantized.properties().iterator(); it.hasNext(); ) {
                JsonNode q = it.next().getValue();
                Set<GgmlType> expected = EnumSet.noneOf(GgmlType.class);
                q.path("tensor_types").forEach(t -> expected.add(GgmlType.valueOf(t.asText().toUpperCase(Locale.ROOT))));
                Path file = root.resolve(model).resolve(q.path("file").asText());
                try (GgufFile f = GgufFile.open(file)) {
                    Set<GgmlType> found = EnumSet.noneOf(GgmlType.class);
                    f.tensorInfos().forEach(t -> found.add(t.type()));
                    assertThat(found).as(file.toString()).isEqualTo(expected);
                    assertThat(Files.size(file)).isEqualTo(q.path("bytes").asLong());
                }
                checked++;
            }
        }
        assertThat(checked).isGreaterThanOrEqualTo(13);
    }

    /**
     * The dequantization samples record the absolute data offset, type and shape of tensors as llama.cpp's tools
     * saw them; the decoded values are compared wherever llama4j has a codec for the type.
     */
    @Test
    void tensorLayoutMatchesTheDequantSamples() throws IOException {
        Path root = Fixtures.require("llama4-tiny");
        Set<String> decodedTypes = new TreeSet<>();
        int samples = 0;
        for (String model : List.of("tiny-k", "tiny-scout")) {
            Path dir = root.resolve(model + "/golden/dequant_samples");
            for (JsonNode s : JSON.readTree(dir.resolve("index.json").toFile()).path("samples")) {
                try (GgufFile f = GgufFile.open(root.resolve(model).resolve(s.path("gguf").asText()))) {
                    String name = s.path("tensor").asText();
                    GgufTensorInfo info = f.tensorInfo(name).orElseThrow();
                    assertThat(info.type().id()).isEqualTo(s.path("ggml_type_id").asInt());
                    assertThat(f.dataOffset() + info.offset()).isEqualTo(s.path("tensor_data_offset_in_file").asLong());
                    long[] ne = JSON.convertValue(s.path("ne"), long[].class);
                    assertThat(info.shape()).containsExactly(ne);
                    samples++;
                    if (!hasCodec(info.type())) {
                        continue;
                    }
                    float[] expected = readFloats(dir.resolve(s.path("file").asText()));
                    Tensor t = f.tensor(name);
                    float[] row = new float[(int) t.rowLength()];
                    for (int i = 0; i < expected.length; i++) {
                        if (i % row.length == 0) {
                            t.dequantizeRow(i / row.length, row, 0);
                        }
                        assertEquals(expected[i], row[i % row.length], 1e-6f * Math.max(1f, Math.abs(expected[i])),
                                () -> name + " value mismatch");
                    }
                    decodedTypes.add(info.type().name());
                }
            }
        }
        assertThat(samples).isGreaterThanOrEqualTo(20);
        assertThat(decodedTypes).contains("F16");
    }

    @Test
    void llama3TinyFacts() {
        try (GgufFile bf16 = GgufFile.open(Fixtures.require("llama3-tiny/llama3-tiny.BF16.gguf"));
             GgufFile q8 = GgufFile.open(Fixtures.require("llama3-tiny/llama3-tiny.Q8_0.gguf"))) {
            for (GgufFile f : List.of(bf16, q8)) {
                assertThat(f.getInt("tokenizer.ggml.bos_token_id")).isEqualTo(4096);
                assertThat(f.getInt("tokenizer.ggml.eos_token_id")).isEqualTo(4097);
                assertThat(f.getInt("tokenizer.ggml.eot_token_id")).isEqualTo(4105);
                assertThat(f.getInt("llama.vocab_size")).isEqualTo(4352);
                assertThat(f.tensorInfo("output.weight")).as("tied embeddings: no output.weight").isEmpty();
                assertThat(f.tensorInfo("rope_freqs.weight").orElseThrow().type()).isEqualTo(GgmlType.F32);
            }
            // rope_freqs from the README: per-frequency divisors for head_dim 16, llama3 factor 32
            assertThat(bf16.tensor("rope_freqs.weight").toFloatArray())
                    .containsExactly(new float[] {1, 1, 1, 1, 3.2923f, 32, 32, 32}, org.assertj.core.data.Offset.offset(1e-4f));
            assertThat(bf16.tensorInfo("token_embd.weight").orElseThrow().type()).isEqualTo(GgmlType.BF16);
            Set<GgmlType> q8Types = EnumSet.noneOf(GgmlType.class);
            q8.tensorInfos().forEach(t -> q8Types.add(t.type()));
            assertThat(q8Types).containsExactlyInAnyOrder(GgmlType.F32, GgmlType.Q8_0);
        }
    }

    @Test
    void llama4ModelFacts() {
        Path root = Fixtures.require("llama4-tiny");
        try (GgufFile scout = GgufFile.open(root.resolve("tiny-scout/tiny-scout.Q4_0.gguf"));
             GgufFile maverick = GgufFile.open(root.resolve("tiny-maverick/tiny-maverick.BF16.gguf"))) {
            assertThat(scout.tensorInfo("output.weight").orElseThrow().type()).isEqualTo(GgmlType.Q8_0);
            assertThat(scout.tensorInfo("blk.0.attn_q.weight").orElseThrow().type()).isEqualTo(GgmlType.Q4_0);
            assertThat(scout.tensorInfo("blk.0.ffn_gate_exps.weight").orElseThrow().shape()).containsExactly(64, 128, 4);
            assertThat(scout.tensorInfo("blk.0.ffn_gate_inp.weight").orElseThrow().shape()).containsExactly(64, 4);
            assertThat(scout.tensorInfo("rope_freqs.weight")).isPresent();
            assertThat(scout.getInt("tokenizer.ggml.bos_token_id")).isEqualTo(6144);
            assertThat(scout.getInt("llama4.attention.temperature_length")).isEqualTo(8);
            assertThat(scout.getFloat("llama4.attention.temperature_scale")).isEqualTo(0.1f);
            assertThat(maverick.getInt("llama4.expert_count")).isEqualTo(128);
            assertThat(maverick.tensorInfo("rope_freqs.weight")).as("no rope scaling").isEmpty();
            assertThat(maverick.tensorInfo("blk.1.ffn_down_exps.weight").orElseThrow().shape()).containsExactly(32, 64, 128);
            assertThat(maverick.tensorInfo("blk.0.ffn_gate.weight").orElseThrow().shape()).containsExactly(64, 256);
        }
    }

    private static boolean hasCodec(GgmlType type) {
        try {
            BlockCodecs.of(type);
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    private static float[] readFloats(Path file) throws IOException {
        MemorySegment bytes = MemorySegment.ofArray(Files.readAllBytes(file));
        return bytes.toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }
}
