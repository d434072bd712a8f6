package org.llama4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.kernel.LinearMap;
import org.llama4j.kernel.RopeScaling;
import org.llama4j.tensor.Tensor;
import org.llama4j.testing.Fixtures;

/**
 * Config identity across formats, every quantized GGUF against its dequantized reference, and format errors, for
 * the Llama 4 fixtures and llama3-tiny.
 */
class Llama4FixtureFormatsTest {

    static Stream<Arguments> ggufs() {
        return Stream.of(
                Arguments.of("llama4-tiny/tiny-scout", "tiny-scout.BF16.gguf"), Arguments.of("llama4-tiny/tiny-scout", "tiny-scout.Q8_0.gguf"),
                Arguments.of("llama4-tiny/tiny-scout", "tiny-scout.Q4_0.gguf"),
                Arguments.of("llama4-tiny/tiny-maverick", "tiny-maverick.BF16.gguf"),
                Arguments.of("llama4-tiny/long-context", "long-context.BF16.gguf"),
                Arguments.of("llama4-tiny/tiny-k", "tiny-k.F16.gguf"), Arguments.of("llama4-tiny/tiny-k", "tiny-k.Q2_K.gguf"),
                Arguments.of("llama4-tiny/tiny-k", "tiny-k.Q3_K_M.gguf"), Arguments.of("llama4-tiny/tiny-k", "tiny-k.Q4_K_M.gguf"),
                Arguments.of("llama4-tiny/tiny-k", "tiny-k.Q5_K_M.gguf"), Arguments.of("llama4-tiny/tiny-k", "tiny-k.Q6_K.gguf"),
                Arguments.of("llama4-tiny/tiny-k", "tiny-k.IQ4_NL.gguf"), Arguments.of("llama4-tiny/tiny-k", "tiny-k.IQ4_XS.gguf"),
                Arguments.of("llama4-tiny/tiny-k", "tiny-k.Q4_1.gguf"), Arguments.of("llama4-tiny/tiny-k", "tiny-k.Q5_0.gguf"),
                Arguments.of("llama4-tiny/tiny-k", "tiny-k.Q5_1.gguf"),
                Arguments.of("llama3-tiny", "llama3-tiny.BF16.gguf"), Arguments.of("llama3-tiny", "llama3-tiny.Q8_0.gguf"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("ggufs")
    void ggufDescriptionEqualsHfDescription(String model, String file) throws IOException {
        Path dir = Fixtures.require(model);
        // tiny-k stores config.json but no safetensors: compare with the config alone.
        Llama4Config hf = Llama4Config.fromHf(new ObjectMapper().readTree(dir.resolve("config.json").toFile()));
        Llama4Config gguf = Llama4Model.readConfig(dir.resolve(file));
        assertThat(gguf).isEqualTo(hf);
        if (Files.exists(dir.resolve("model.safetensors"))) {
            assertThat(Llama4Model.readConfig(dir)).isEqualTo(hf);
        }
    }

    @Test
    void fixtureSemanticsAreReadAsDocumented() {
        Path dir = Fixtures.require("llama4-tiny");
        Llama4Config scout = Llama4Model.readConfig(dir.resolve("tiny-scout/tiny-scout.BF16.gguf"));
        assertThat(scout.noRopeLayers()).containsExactly(3);
        assertThat(scout.moeLayers()).containsExactly(0, 1, 2, 3);
        assertThat(scout.useQkNorm()).isTrue();
        assertThat(scout.attentionChunkSize()).isEqualTo(16);
        assertThat(scout.floorScale()).isEqualTo(8f);
        assertThat(scout.ropeScaling()).isEqualTo(new RopeScaling(16f, 1f, 1f, 8192));
        assertThat(scout.expertFfnWidth()).isEqualTo(128);
        Llama4Config maverick = Llama4Model.readConfig(dir.resolve("tiny-maverick/tiny-maverick.BF16.gguf"));
        assertThat(maverick.moeLayers()).containsExactly(1, 3);
        assertThat(maverick.useQkNorm()).isFalse();
        assertThat(maverick.ropeScaling()).isNull();
        assertThat(maverick.denseFfnWidth()).isEqualTo(256);
        assertThat(maverick.expertFfnWidth()).isEqualTo(32);
    }

    @ParameterizedTest(name = "llama3-tiny/{0}")
    @ValueSource(strings = {"", "llama3-tiny.BF16.gguf", "llama3-tiny.Q8_0.gguf"})
    void llama3FixtureIsReadAsDocumented(String file) {
        Path dir = Fixtures.require("llama3-tiny");
        try (Llama4Model m = Llama4Model.load(file.isEmpty() ? dir : dir.resolve(file))) {
            Llama4Config c = m.config();
            assertThat(c.architecture()).isEqualTo(Architecture.LLAMA3);
            assertThat(c.ropeScaling()).isEqualTo(new RopeScaling(32f, 1f, 4f, 8192));
            assertThat(c.ropeTheta()).isEqualTo(500000f);
            assertThat(c.denseFfnWidth()).isEqualTo(256);
            assertThat(c.moeLayers()).isEmpty();
            assertThat(c.noRopeLayers()).isEmpty();
            assertThat(c.attentionChunkSize()).isZero();
            assertThat(List.of(c.headCount(), c.kvHeadCount(), c.headDim(), c.contextLength()))
                    .containsExactly(4, 2, 16, 131072);
            assertThat(List.of(c.bosTokenId(), c.eosTokenIds().getFirst())).containsExactly(4096, 4097);
            // Tied: neither lm_head.weight nor output.weight exists; the output head reads the embedding matrix.
            assertThat(m.weights().outputHead()).isInstanceOfSatisfying(LinearMap.RowsAreOutputs.class,
                    head -> assertThat(head.tensor()).isSameAs(m.weights().tokenEmbeddings()));
        }
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("ggufs")
    void quantizedFilesMatchTheirDequantizedReference(String model, String file) {
        Path dir = Fixtures.require(model);
        JsonNode index = Goldens.index(dir);
        JsonNode entry = null;
        for (JsonNode q : index.path("quantized")) {
            if (q.get("file").asText().equals(file)) {
                entry = q;
            }
        }
        if (entry == null) {
            return; // BF16 files are covered by the reference goldens themselves
        }
        try (Llama4Model m = Llama4Model.load(dir.resolve(file))) {
            int vocab = m.config().vocabSize();
            double worst = 0;
            for (JsonNode ps : entry.get("per_sequence")) {
                int[] tokens = Goldens.ints(index.get("sequences").get(ps.get("seq").asInt()).get("tokens"));
                float[][] logits = m.newSession().ingestAll(tokens);
                float[] expected = Goldens.floats(dir, ps.get("dequantized_reference_logits_file").asText());
                int[] positions = Goldens.ints(ps.get("dequantized_reference_logits_positions"));
                for (int i = 0; i < positions.length; i++) {
                    worst = Math.max(worst, Goldens.maxAbs(logits[positions[i]], expected, i * vocab));
                }
            }
            System.out.printf("[golden] %s vs dequantized reference: max-abs %.3g%n", file, worst);
            assertThat(worst).isLessThan(1e-4);
        }
    }

    @Test
    void missingOrMisshapedTensorsAreNamedWithTheExpectedShape() {
        Path file = Fixtures.require("llama4-tiny/tiny-scout/tiny-scout.BF16.gguf");
        try (GgufFile gguf = GgufFile.open(file)) {
            Llama4Config c = Llama4GgufConfig.read(gguf);
            TensorLookup missing = new TensorLookup("test.gguf",
                    name -> name.equals("blk.2.ffn_down_exps.weight") ? Optional.empty() : gguf.findTensor(name));
            assertThatThrownBy(() -> GgufWeightLayout.load(missing, c)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("blk.2.ffn_down_exps.weight").hasMessageContaining("missing")
                    .hasMessageContaining("[128, 64, 4]");
            TensorLookup swapped = new TensorLookup("test.gguf", name -> gguf.findTensor(
                    name.equals("blk.1.attn_k.weight") ? "blk.1.attn_q.weight" : name));
            assertThatThrownBy(() -> GgufWeightLayout.load(swapped, c)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("blk.1.attn_k.weight").hasMessageContaining("[64, 64]")
                    .hasMessageContaining("expected [64, 32]");
        }
    }

    @Test
    void ropeFreqsThatAreNotLlama3ScalingAreRejected() {
        // Read with another rope_theta, the stored divisors no longer fit llama3 scaling of those frequencies.
        Path file = Fixtures.require("llama4-tiny/tiny-scout/tiny-scout.BF16.gguf");
        try (GgufFile gguf = GgufFile.open(file)) {
            Tensor freqs = gguf.tensor("rope_freqs.weight");
            assertThat(freqs.toFloatArray()).contains(1f, 16f);
            assertThatThrownBy(() -> Llama4GgufConfig.ropeScaling(gguf, "llama4.", 5e7f, 16))
                    .isInstanceOf(ModelFormatException.class).hasMessageContaining("rope_freqs");
        }
    }
}
