package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.llama4j.testing.Fixtures;

/** {@code inspect} reports, for every fixture checkpoint, the hyperparameters its config.json declares. */
class InspectCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyLlama4TinyCheckpointReportsItsConfig() throws IOException {
        Path root = Fixtures.require("llama4-tiny");
        int checked = 0;
        for (String model : List.of("tiny-scout", "tiny-maverick", "tiny-k", "long-context")) {
            Path dir = root.resolve(model);
            JsonNode text = JSON.readTree(dir.resolve("config.json").toFile()).get("text_config");
            List<Path> checkpoints = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(p -> p.toString().endsWith(".gguf")).sorted().forEach(checkpoints::add);
            }
            if (Files.exists(dir.resolve("model.safetensors"))) {
                checkpoints.add(dir);
            }
            for (Path checkpoint : checkpoints) {
                CliRun r = CliRun.run("inspect", "--json", checkpoint.toString());
                assertThat(r.code()).as(checkpoint + ": " + r.err()).isZero();
                JsonNode h = JSON.readTree(r.out()).get("hyperparameters");
                String where = checkpoint.toString();
                assertThat(h.get("hiddenSize").asInt()).as(where).isEqualTo(text.get("hidden_size").asInt());
                assertThat(h.get("layerCount").asInt()).as(where).isEqualTo(text.get("num_hidden_layers").asInt());
                assertThat(h.get("headCount").asInt()).as(where).isEqualTo(text.get("num_attention_heads").asInt());
                assertThat(h.get("kvHeadCount").asInt()).as(where).isEqualTo(text.get("num_key_value_heads").asInt());
                assertThat(h.get("headDim").asInt()).as(where).isEqualTo(text.get("head_dim").asInt());
                assertThat(h.get("vocabSize").asInt()).as(where).isEqualTo(text.get("vocab_size").asInt());
                assertThat(h.get("expertCount").asInt()).as(where).isEqualTo(text.get("num_local_experts").asInt());
                assertThat(h.get("expertsPerToken").asInt()).as(where).isEqualTo(text.get("num_experts_per_tok").asInt());
                assertThat(h.get("expertFfnWidth").asInt()).as(where).isEqualTo(text.get("intermediate_size").asInt());
                assertThat(h.get("attentionChunkSize").asInt()).as(where)
                        .isEqualTo(text.get("attention_chunk_size").asInt());
                assertThat(h.get("useQkNorm").asBoolean()).as(where).isEqualTo(text.get("use_qk_norm").asBoolean());
                assertThat(h.get("floorScale").asDouble()).as(where).isEqualTo(text.get("floor_scale").asDouble());
                assertThat(h.get("attnScale").asDouble()).as(where)
                        .isCloseTo(text.get("attn_scale").asDouble(), org.assertj.core.data.Offset.offset(1e-7));
                assertThat(h.get("ropeTheta").asDouble()).as(where).isEqualTo(text.get("rope_theta").asDouble());
                assertThat(ints(h.get("moeLayers"))).as(where).isEqualTo(ints(text.get("moe_layers")));
                List<Integer> nope = new ArrayList<>();
                for (int l = 0; l < text.get("no_rope_layers").size(); l++) {
                    if (text.get("no_rope_layers").get(l).asInt() == 0) {
                        nope.add(l); // no_rope_layers[l] == 1 means layer l USES RoPE
                    }
                }
                assertThat(ints(h.get("noRopeLayers"))).as(where).isEqualTo(nope);
                JsonNode scaling = text.get("rope_scaling");
                if (scaling == null || scaling.isNull()) {
                    assertThat(h.get("ropeScaling").isNull()).as(where).isTrue();
                } else {
                    assertThat(h.get("ropeScaling").get("factor").asDouble()).as(where)
                            .isEqualTo(scaling.get("factor").asDouble());
                }
                JsonNode params = JSON.readTree(r.out()).get("parameters");
                assertThat(params.get("active_per_token").asLong()).isPositive()
                        .isLessThanOrEqualTo(params.get("total").asLong());
                checked++;
            }
        }
        assertThat(checked).isGreaterThanOrEqualTo(16);
    }

    @Test
    void activeParametersCountOnlyTheChosenExperts() throws IOException {
        Path maverick = Fixtures.require("llama4-tiny/tiny-maverick");
        JsonNode r = JSON.readTree(CliRun.run("inspect", "--json", maverick.toString()).out());
        long expertElements = 0;
        for (JsonNode t : r.get("tensors")) {
            if (t.get("name").asText().contains(".feed_forward.experts.")) {
                long n = 1;
                for (JsonNode d : t.get("shape")) {
                    n *= d.asLong();
                }
                expertElements += n;
            }
        }
        assertThat(expertElements).isPositive();
        // 128 experts, top-1: 127/128 of the routed expert weights are idle for a token
        long total = r.get("parameters").get("total").asLong();
        assertThat(r.get("parameters").get("active_per_token").asLong()).isEqualTo(total - expertElements / 128 * 127);
    }

    @Test
    void vocabularyOnlyGgufOpensWithoutAModel() {
        Path vocab = Fixtures.require("llama4-tiny/llama4-vocab.gguf");
        CliRun r = CliRun.run("inspect", vocab.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("architecture llama4").contains("no model description").contains("tensors              0");
    }

    @Test
    void aMissingFileIsAClearError() {
        CliRun r = CliRun.run("inspect", "/nonexistent/model.gguf");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("/nonexistent/model.gguf");
    }

    private static List<Integer> ints(JsonNode a) {
        List<Integer> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asInt()));
        return out;
    }
}
