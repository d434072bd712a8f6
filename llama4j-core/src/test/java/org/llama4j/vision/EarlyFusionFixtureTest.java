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

    @ParameterizedTest
    @MethodSource("promptNames")
    void finalHiddenAndLogitsThroughTheTextModel(String name) {
        JsonNode prompt = prompt(name);
        MultimodalPrompt mp = build(prompt);
        int[] tokens = mp.tokens();
        try (org.llama4j.model.Llama4Model model = org.llama4j.model.Llama4Model.load(fx.dir)) {
            int hidden = model.config().hiddenSize();
            float[] finalHidden = new float[tokens.length * hidden];
            org.llama4j.model.ForwardListener listener = new org.llama4j.model.ForwardListener() {
                @Override
                public void finalNorm(int position, float[] x, int offset, int length) {
                    System.arraycopy(x, offset, finalHidden, position * hidden, length);
                }
            };
            float[][] logits = model.forward(tokens, 0, new org.llama4j.model.KvCache(model.config()),
                    p -> true, listener, mp::visionEmbeddingAt);
            float[] expHidden = fx.floats(prompt.get("final_hidden"));
            float hiddenErr = VisionFixture.maxAbsDiff(finalHidden, 0, expHidden, 0, expHidden.length);
            float[] expLogits = fx.floats(prompt.get("logits_last"));
            float logitErr = VisionFixture.maxAbsDiff(logits[tokens.length - 1], 0, expLogits, 0, expLogits.length);
            System.out.printf("[vision] %s final_hidden max abs error %.3g, logits_last %.3g%n", name, hiddenErr, logitErr);
            assertThat(hiddenErr).isLessThanOrEqualTo(1e-3f);
            assertThat(logitErr).isLessThanOrEqualTo(1e-3f);
            JsonNode argmax = prompt.get("argmax_per_position");
            for (int t = 0; t < tokens.length; t++) {
                assertThat(argmaxOf(logits[t])).as("argmax at %d", t).isEqualTo(argmax.get(t).asInt());
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static int argmaxOf(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
