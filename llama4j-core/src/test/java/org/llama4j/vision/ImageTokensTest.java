package org.llama4j.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.llama4j.testing.Fixtures;

class ImageTokensTest {
    @Test
    void allSixteenMetaLayouts() throws IOException {
        var file = Fixtures.require("tokenizer/image_layout_cases.jsonl");
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        assertThat(lines).hasSize(16);
        for (String line : lines) {
            JsonNode c = json.readTree(line);
            int rows = c.get("aspect_ratio").get(0).asInt();
            int cols = c.get("aspect_ratio").get(1).asInt();
            int p = c.get("patches_per_chunk").asInt();
            int[] expected = json.convertValue(c.get("ids"), int[].class);
            int[] got = ImageTokens.LLAMA4.layout(rows, cols, p);
            assertThat(got).as(c.get("compact").asText()).isEqualTo(expected);
            int chunks = rows * cols == 1 ? 1 : rows * cols + 1;
            assertThat(chunks).isEqualTo(c.get("image_chunks").asInt());
        }
    }

    @Test
    void fixtureImagesUseTheirPlansLayout() {
        VisionFixture fx = VisionFixture.load();
        ImagePreprocessor pre = new ImagePreprocessor(PreprocessorConfig.defaults(fx.index.get("tile_size").asInt()));
        for (JsonNode img : fx.images()) {
            TilePlan plan = pre.plan(img.get("size_wh").get(0).asInt(), img.get("size_wh").get(1).asInt());
            int[] expected = new ObjectMapper().convertValue(img.get("image_tokens"), int[].class);
            assertThat(ImageTokens.LLAMA4.layout(plan, fx.index.get("tokens_per_tile").asInt()))
                    .as(img.get("name").asText()).isEqualTo(expected);
        }
    }

    @Test
    void idsByNameAndFromConfig() throws IOException {
        VisionFixture fx = VisionFixture.load();
        Map<String, Integer> special = new ObjectMapper().convertValue(fx.index.get("special_tokens"),
                new com.fasterxml.jackson.core.type.TypeReference<Map<String, Integer>>() { });
        assertThat(ImageTokens.byName(special::get)).isEqualTo(ImageTokens.LLAMA4);
        JsonNode config = new ObjectMapper().readTree(fx.dir.resolve("config.json").toFile());
        assertThat(ImageTokens.fromConfig(config)).isEqualTo(ImageTokens.LLAMA4);
        ImageTokens custom = ImageTokens.fromConfig(new ObjectMapper().readTree("{\"image_token_index\": 7}"));
        assertThat(custom.patch()).isEqualTo(7);
    }

    @Test
    void rejectsEmptyGrids() {
        assertThatThrownBy(() -> ImageTokens.LLAMA4.layout(0, 2, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x2");
        assertThatThrownBy(() -> ImageTokens.LLAMA4.layout(1, 1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void builderChecksRowCountsAndPatchText() {
        TilePlan plan = new TilePlan(100, 50, 112, 56, 100, 50, 56);
        var b = MultimodalPrompt.builder(ImageTokens.LLAMA4, 4);
        assertThatThrownBy(() -> b.image(plan, new float[8][2])).hasMessageContaining("needs 12 vision rows");
        assertThatThrownBy(() -> b.text(1, 200092)).hasMessageContaining("<|patch|>");
        assertThatThrownBy(() -> new MultimodalPrompt(new int[] {200092, 5}, 200092, new float[0][]))
                .hasMessageContaining("1 <|patch|> tokens");
        List<float[]> rows = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            rows.add(new float[] {i, -i});
        }
        MultimodalPrompt p = MultimodalPrompt.builder(ImageTokens.LLAMA4, 4).text(1, 2).image(plan, rows.toArray(new float[0][]))
                .text(3).build();
        assertThat(p.patchPositions()).hasSize(12).startsWith(3);
        assertThat(p.visionEmbeddingAt(4)).containsExactly(1f, -1f);
        assertThat(p.visionEmbeddingAt(2)).isNull();
        assertThat(p.tokens()[p.length() - 1]).isEqualTo(3);
    }
}
