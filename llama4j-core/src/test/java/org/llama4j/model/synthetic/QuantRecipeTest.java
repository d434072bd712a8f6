package org.llama4j.model.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.gguf.GgufTensorInfo;
import org.llama4j.model.synthetic.QuantRecipe.FileType;
import org.llama4j.tensor.GgmlType;
import org.llama4j.testing.Fixtures;

class QuantRecipeTest {

    /**
     * The fixture GGUFs were quantized by llama.cpp's own {@code llama_model_quantize} (default recipe): the plan for
     * the same model shape must give every tensor exactly the type llama.cpp chose.
     */
    @ParameterizedTest(name = "{0}/{1}")
    @CsvSource({
        "tiny-k, Q2_K", "tiny-k, Q3_K_M", "tiny-k, Q4_K_M", "tiny-k, Q5_K_M", "tiny-k, Q6_K", "tiny-k, IQ4_NL",
        "tiny-k, IQ4_XS", "tiny-k, Q4_1", "tiny-k, Q5_0", "tiny-k, Q5_1", "tiny-k, F16",
        "tiny-scout, Q8_0", "tiny-scout, Q4_0",
    })
    void matchesTheTypesLlamaCppChoseForTheFixtures(String model, String type) {
        Path dir = Fixtures.require("llama4-tiny/" + model);
        SyntheticModelConfig config = SyntheticModelConfig.fromHfConfig(dir.resolve("config.json"));
        SyntheticModelWriter plan = new SyntheticModelWriter(config, FileType.parse(type), 0);
        Map<String, GgmlType> expected = new LinkedHashMap<>();
        try (GgufFile f = GgufFile.open(dir.resolve(model + "." + type + ".gguf"))) {
            for (GgufTensorInfo t : f.tensorInfos()) {
                expected.put(t.name(), t.type());
            }
            assertThat(f.getLong("general.file_type")).isEqualTo(FileType.parse(type).llamaFtype());
        }
        assertThat(SyntheticModelWriterTest.types(plan)).containsExactlyInAnyOrderEntriesOf(expected);
    }

    @Test
    void q4KmRaisesAttnVAndFfnDownOnTheUseMoreBitsLayers() {
        // 16 layers: use_more_bits = first 2, last 2, and every third layer between (layer - 2) % 3 == 2
        assertThat(java.util.stream.IntStream.range(0, 16).filter(l -> QuantRecipe.useMoreBits(l, 16)).boxed())
                .containsExactly(0, 1, 4, 7, 10, 13, 14, 15);
        SyntheticModelConfig c = new SyntheticModelConfig("deep", 512, 256, 16, 4, 2, 64, 4, 1, 256, 256, 1, 8192,
                true, 8192, 0.1f, 500000f, null, 1e-5f, 256);
        SyntheticModelWriter w = new SyntheticModelWriter(c, FileType.Q4_K_M, 0);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.4.attn_v.weight")).isEqualTo(GgmlType.Q6_K);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.5.attn_v.weight")).isEqualTo(GgmlType.Q4_K);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.7.ffn_down_exps.weight")).isEqualTo(GgmlType.Q6_K);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.7.ffn_down_shexp.weight")).isEqualTo(GgmlType.Q6_K);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.8.ffn_down_exps.weight")).isEqualTo(GgmlType.Q4_K);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.8.ffn_gate_exps.weight")).isEqualTo(GgmlType.Q4_K);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.8.ffn_gate_inp.weight")).isEqualTo(GgmlType.F32);
        assertThat(SyntheticModelWriterTest.typeOf(w, "output.weight")).isEqualTo(GgmlType.Q6_K);
        assertThat(SyntheticModelWriterTest.typeOf(w, "token_embd.weight")).isEqualTo(GgmlType.Q4_K);
        assertThat(SyntheticModelWriterTest.typeOf(w, "output_norm.weight")).isEqualTo(GgmlType.F32);
    }

    @Test
    void eightExpertModelsGetLlamaCppsExtraBits() {
        SyntheticModelConfig c = new SyntheticModelConfig("eight", 512, 256, 4, 4, 4, 64, 8, 2, 256, 256, 1, 8192,
                true, 8192, 0.1f, 500000f, null, 1e-5f, 256);
        SyntheticModelWriter w = new SyntheticModelWriter(c, FileType.Q4_K_M, 0);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.1.attn_v.weight")).isEqualTo(GgmlType.Q8_0);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.1.attn_k.weight")).isEqualTo(GgmlType.Q8_0);
        assertThat(SyntheticModelWriterTest.typeOf(w, "blk.1.attn_output.weight")).isEqualTo(GgmlType.Q5_K);
    }

    @ParameterizedTest(name = "{0} rows of {1} -> {2}")
    @CsvSource({
        "Q4_K, 256, Q4_K", "Q4_K, 64, Q5_0", "Q5_K, 96, Q5_1", "Q6_K, 64, Q8_0", "Q2_K, 64, IQ4_NL",
        "Q3_K, 32, IQ4_NL", "IQ4_XS, 128, IQ4_NL", "Q4_K, 48, F16", "Q6_K, 48, F16",
    })
    void rowsNotAMultipleOfTheBlockFallBackLikeLlamaCpp(GgmlType chosen, long rowLength, GgmlType expected) {
        assertThat(QuantRecipe.fallbackForRowLength(chosen, rowLength)).isEqualTo(expected);
    }

    @Test
    void parsesTypeNamesAndAliases() {
        assertThat(FileType.parse("q4_k_m")).isEqualTo(FileType.Q4_K_M);
        assertThat(FileType.parse("Q4_K")).isEqualTo(FileType.Q4_K_S);
        assertThat(FileType.parse("q3_k")).isEqualTo(FileType.Q3_K_S);
        assertThat(FileType.parse("q5_k")).isEqualTo(FileType.Q5_K_S);
        assertThat(FileType.parse("bf16")).isEqualTo(FileType.BF16);
        assertThat(FileType.cliNames()).contains("iq4_xs", "q2_k", "q6_k", "f32", "q4_k");
        assertThatThrownBy(() -> FileType.parse("q4_k_xl")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown model type 'q4_k_xl'").hasMessageContaining("q4_k_m");
    }
}
