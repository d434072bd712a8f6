package org.llama4j.vision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.image.ImageLoader;

/**
 * Whole prompts: image files through decode, preprocessing, the vision tower and Meta's layout, fused into the
 * text model's input embeddings, against {@code fused_input_embeddings}.
 */
class EarlyFusionFixtureTest {
    static VisionFixture fx;
    static HfModelFolder folder;
    static VisionEncoder encoder;
    static ImagePreprocessor pre;

    @BeforeAll
    static void load() {
        fx = VisionFixture.load();
        folder = HfModelFolder.open(fx.dir);
        encoder = VisionEncoder.load(folder);
        pre = new ImagePreprocessor(PreprocessorConfig.read(folder.preprocessorConfigJson().orElseThrow(),
                encoder.geometry().tileSize()));
    }

    @AfterAll
    static void close() {
        if (folder != null) {
            folder.close();
        }
    }

    static Stream<String> promptNames() {
        return VisionFixture.load().prompts().stream().map(p -> p.get("name").asText());
    }

    static JsonNode prompt(String name) {
        return fx.prompts().stream().filter(p -> p.get("name").asText().equals(name)).findFirst().orElseThrow();
    }

    /** Rebuilds the prompt from its text runs (the fixture's ids outside image blocks) and the image files. */
    static MultimodalPrompt build(JsonNode prompt) {
        ImageTokens ids = ImageTokens.fromConfig(folder.config());
        int[] tokens = new ObjectMapper().convertValue(prompt.get("tokens"), int[].class);
        MultimodalPrompt.Builder b = MultimodalPrompt.builder(ids, encoder.geometry().tokensPerTile());
        int start = 0;
        int image = 0;
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == ids.imageStart()) {
                b.text(Arrays.copyOfRange(tokens, start, i));
                JsonNode img = fx.image(prompt.get("images_in_order").get(image++).asText());
                PreprocessedImage p = pre.preprocess(new ImageLoader().load(fx.dir.resolve(img.get("image_file").asText())));
                b.image(p.plan(), encoder.encode(p));
                while (tokens[i] != ids.imageEnd()) {
                    i++;
                }
                start = i + 1;
            }
        }
        b.text(Arrays.copyOfRange(tokens, start, tokens.length));
        assertThat(image).isEqualTo(prompt.get("images_in_order").size());
        return b.build();
    }

    @ParameterizedTest
    @MethodSource("promptNames")
    void fusedInputEmbeddingsMatchMeta(String name) {
        JsonNode prompt = prompt(name);
        MultimodalPrompt mp = build(prompt);
        assertThat(mp.tokens()).isEqualTo(new ObjectMapper().convertValue(prompt.get("tokens"), int[].class));
        assertThat(mp.patchPositions())
                .isEqualTo(new ObjectMapper().convertValue(prompt.get("patch_token_positions"), int[].class));
        float[][] fused = mp.fuse(folder.tensor("language_model.model.embed_tokens.weight"));
        float[] expected = fx.floats(prompt.get("fused_input_embeddings"));
        int hidden = fused[0].length;
        assertThat(fused.length * hidden).isEqualTo(expected.length);
        float max = 0;
        for (int i = 0; i < fused.length; i++) {
            max = Math.max(max, VisionFixture.maxAbsDiff(fused[i], 0, expected, i * hidden, hidden));
        }
        System.out.printf("[vision] %s fused embeddings max abs error %.3g%n", name, max);
        assertThat(max).isLessThanOrEqualTo(1e-4f);
    }
}
