package org.llama4j.model.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.kernel.RopeScaling;
import org.llama4j.testing.Fixtures;

class SyntheticModelConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void readsTheFixtureConfigs() {
        SyntheticModelConfig scout = SyntheticModelConfig.fromHfConfig(
                Fixtures.require("llama4-tiny/tiny-scout/config.json"));
        assertThat(scout.name()).isEqualTo("tiny-scout");
        assertThat(scout.vocabSize()).isEqualTo(8192);
        assertThat(scout.hiddenSize()).isEqualTo(64);
        assertThat(scout.expertFfnWidth()).isEqualTo(128);
        assertThat(scout.denseFfnWidth()).isEqualTo(256);
        assertThat(scout.expertCount()).isEqualTo(4);
        assertThat(scout.attentionChunkSize()).isEqualTo(16);
        assertThat(scout.floorScale()).isEqualTo(8);
        assertThat(scout.ropeScaling()).isEqualTo(new RopeScaling(16f, 1f, 1f, 8192));
        SyntheticModelConfig maverick = SyntheticModelConfig.fromHfConfig(
                Fixtures.require("llama4-tiny/tiny-maverick/config.json"));
        assertThat(maverick.interleaveMoeLayerStep()).isEqualTo(2);
        assertThat(maverick.ropeScaling()).isNull();
    }

    /** From the fixture's config.json we plan exactly the fixture BF16 GGUF's metadata, tensors and shapes. */
    @Test
    void plansTheSameModelLayoutAsTheFixtureGguf() throws IOException {
        Path dir = Fixtures.require("llama4-tiny/tiny-scout");
        SyntheticModelConfig c = SyntheticModelConfig.fromHfConfig(dir.resolve("config.json"));
        Path ours = this.dir.resolve("ours.gguf");
        new SyntheticModelWriter(c, QuantRecipe.FileType.BF16, 1234).threads(2).write(ours);
        try (GgufFile fixture = GgufFile.open(dir.resolve("tiny-scout.BF16.gguf")); GgufFile f = GgufFile.open(ours)) {
            assertThat(f.tensorInfos()).hasSameSizeAs(fixture.tensorInfos());
            for (var t : fixture.tensorInfos()) {
                var mine = f.tensorInfo(t.name()).orElseThrow(() -> new AssertionError("missing " + t.name()));
                assertThat(mine.shape()).as(t.name()).containsExactly(t.shape());
            }
            for (String key : fixture.keys()) {
                if (key.startsWith("llama4.") || key.equals("general.architecture")) {
                    assertThat(f.get(key)).as(key).isEqualTo(fixture.get(key));
                }
            }
            // the converter's llama3 rope factors (fixture values written by the reference generator)
            assertThat(SyntheticModelWriterTest.floats(f.tensor("rope_freqs.weight")))
                    .containsExactly(SyntheticModelWriterTest.floats(fixture.tensor("rope_freqs.weight")));
        }
    }

    @Test
    void acceptsACausalLmConfigAtTheTopLevel() throws IOException {
        ObjectNode c = textConfig();
        c.putArray("architectures").add("Llama4ForCausalLM");
        SyntheticModelConfig parsed = parse(c);
        assertThat(parsed.hiddenSize()).isEqualTo(64);
        assertThat(parsed.name()).isEqualTo("m");
    }

    @Test
    void rejectsOtherArchitectures() {
        ObjectNode c = textConfig();
        c.putArray("architectures").add("LlamaForCausalLM");
        assertThatThrownBy(() -> parse(c)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("LlamaForCausalLM").hasMessageContaining("not Llama 4");
    }

    @Test
    void rejectsInconsistentDimensions() {
        ObjectNode heads = wrapped();
        ((ObjectNode) heads.get("text_config")).put("num_attention_heads", 5);
        assertThatThrownBy(() -> parse(heads)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("hidden_size 64 is not a multiple of num_attention_heads 5");

        ObjectNode kv = wrapped();
        ((ObjectNode) kv.get("text_config")).put("num_key_value_heads", 3);
        assertThatThrownBy(() -> parse(kv)).hasMessageContaining("not a multiple of num_key_value_heads 3");

        ObjectNode headDim = wrapped();
        ((ObjectNode) headDim.get("text_config")).put("head_dim", 32);
        assertThatThrownBy(() -> parse(headDim)).hasMessageContaining("head_dim 32 differs");

        ObjectNode topK = wrapped();
        ((ObjectNode) topK.get("text_config")).put("num_experts_per_tok", 5);
        assertThatThrownBy(() -> parse(topK)).hasMessageContaining("num_experts_per_tok 5");

        ObjectNode layers = wrapped();
        ((ObjectNode) layers.get("text_config")).put("num_hidden_layers", 3);
        ((ObjectNode) layers.get("text_config")).remove("no_rope_layers");
        ((ObjectNode) layers.get("text_config")).remove("moe_layers");
        assertThatThrownBy(() -> parse(layers)).hasMessageContaining("num_hidden_layers 3")
                .hasMessageContaining("NoPE");

        ObjectNode missing = wrapped();
        ((ObjectNode) missing.get("text_config")).remove("hidden_size");
        assertThatThrownBy(() -> parse(missing)).hasMessageContaining("missing 'hidden_size'");

        ObjectNode notInt = wrapped();
        ((ObjectNode) notInt.get("text_config")).put("vocab_size", "many");
        assertThatThrownBy(() -> parse(notInt)).hasMessageContaining("'vocab_size' is \"many\"");
    }

    @Test
    void rejectsLayerPatternsAGgufCannotExpress() {
        ObjectNode moe = wrapped();
        ((ObjectNode) moe.get("text_config")).putArray("moe_layers").add(0).add(2);
        ((ObjectNode) moe.get("text_config")).put("interleave_moe_layer_step", 2);
        assertThatThrownBy(() -> parse(moe)).hasMessageContaining("moe_layers [0, 2]")
                .hasMessageContaining("[1, 3]");

        ObjectNode nope = wrapped();
        ((ObjectNode) nope.get("text_config")).putArray("no_rope_layers").add(1).add(0).add(1).add(1);
        assertThatThrownBy(() -> parse(nope)).hasMessageContaining("layer 1 skip RoPE");

        ObjectNode scaling = wrapped();
        ((ObjectNode) scaling.get("text_config")).putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4);
        assertThatThrownBy(() -> parse(scaling)).hasMessageContaining("rope_scaling type 'yarn'");

        ObjectNode dense = wrapped();
        ((ObjectNode) dense.get("text_config")).put("interleave_moe_layer_step", 2);
        ((ObjectNode) dense.get("text_config")).remove("intermediate_size_mlp");
        ((ObjectNode) dense.get("text_config")).remove("moe_layers");
        assertThatThrownBy(() -> parse(dense)).hasMessageContaining("intermediate_size_mlp");
    }

    @Test
    void unreadableConfigSaysWhichFile() throws IOException {
        Path bad = dir.resolve("config.json");
        Files.writeString(bad, "{ not json");
        assertThatThrownBy(() -> SyntheticModelConfig.fromHfConfig(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(bad.toString()).hasMessageContaining("JSON");
    }

    private SyntheticModelConfig parse(ObjectNode root) throws IOException {
        Path sub = Files.createDirectories(dir.resolve("m"));
        Path file = sub.resolve("config.json");
        JSON.writeValue(file.toFile(), root);
        return SyntheticModelConfig.fromHfConfig(file);
    }

    private static ObjectNode wrapped() {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("architectures").add("Llama4ForConditionalGeneration");
        root.put("model_type", "llama4");
        root.set("text_config", textConfig());
        return root;
    }

    private static ObjectNode textConfig() {
        ObjectNode c = JSON.createObjectNode();
        c.put("model_type", "llama4_text");
        c.put("vocab_size", 512);
        c.put("hidden_size", 64);
        c.put("intermediate_size", 128);
        c.put("intermediate_size_mlp", 256);
        c.put("num_hidden_layers", 4);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("head_dim", 16);
        c.put("num_local_experts", 4);
        c.put("num_experts_per_tok", 1);
        c.put("interleave_moe_layer_step", 1);
        c.putArray("moe_layers").add(0).add(1).add(2).add(3);
        c.putArray("no_rope_layers").add(1).add(1).add(1).add(0);
        c.put("max_position_embeddings", 256);
        return c;
    }
}
