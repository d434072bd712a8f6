package org.llama4j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.chat.ChatMessage;
import org.llama4j.image.ImageInput;
import org.llama4j.image.ImageLoadException;
import org.llama4j.model.InferenceSession;
import org.llama4j.testing.Fixtures;
import org.llama4j.testing.TinyModels;
import org.llama4j.vision.MultimodalPrompt;

/**
 * The library API with images on {@code llama4-vision-tiny}: chat messages with image parts give Meta's exact
 * prompt ids (through the model's Hugging Face template and through the built-in Meta format) and, with the patch
 * embeddings fused, Meta's final logits; a conversation reuses its cache across an image turn.
 */
class ChatModelVisionFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path dir;
    private static JsonNode index;
    private static ChatModel model;

    @BeforeAll
    static void load() throws IOException {
        dir = Fixtures.require("llama4-vision-tiny");
        index = JSON.readTree(dir.resolve("fixtures.json").toFile());
        model = ChatModel.load(dir);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static Stream<String> oneImagePrompts() throws IOException {
        JsonNode idx = JSON.readTree(Fixtures.require("llama4-vision-tiny").resolve("fixtures.json").toFile());
        List<String> names = new ArrayList<>();
        idx.get("prompts").forEach(p -> {
            if (p.get("images_in_order").size() == 1) {
                names.add(p.get("name").asText());
            }
        });
        return names.stream();
    }

    private static JsonNode prompt(String name) {
        for (JsonNode p : index.get("prompts")) {
            if (p.get("name").asText().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static ImageInput image(String name) {
        for (JsonNode img : index.get("images")) {
            if (img.get("name").asText().equals(name)) {
                return ImageInput.file(dir.resolve(img.get("image_file").asText()));
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static float[] floats(JsonNode ref) throws IOException {
        byte[] b = Files.readAllBytes(dir.resolve(ref.get("file").asText()));
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    private static int[] ints(JsonNode array) {
        return JSON.convertValue(array, int[].class);
    }

    /** The last position's logits of a prefill with the prompt's patch rows fused. */
    private static float[] lastLogits(ChatModel m, MultimodalPrompt p) {
        try (InferenceSession s = m.model().newSession()) {
            return s.ingestFused(p.tokens(), ChatModel.fusion(p));
        }
    }

    private static void assertMatchesMeta(float[] logits, JsonNode prompt) throws IOException {
        float[] expected = floats(prompt.get("logits_last"));
        assertThat(logits).hasSameSizeAs(expected);
        float max = 0;
        int best = 0;
        for (int i = 0; i < logits.length; i++) {
            max = Math.max(max, Math.abs(logits[i] - expected[i]));
            best = logits[i] > logits[best] ? i : best;
        }
        assertThat(max).as("max |logit - Meta's|").isLessThanOrEqualTo(1e-3f);
        JsonNode argmax = prompt.get("argmax_per_position");
        assertThat(best).isEqualTo(argmax.get(argmax.size() - 1).asInt());
    }

    @ParameterizedTest
    @MethodSource("oneImagePrompts")
    void anImageMessageGivesMetasPromptAndFinalLogits(String name) throws IOException {
        JsonNode p = prompt(name);
        ChatMessage message = ChatMessage.userWithImages("Describe this image.", image(p.get("images_in_order").get(0).asText()));
        MultimodalPrompt mp = model.prompt(List.of(message), ChatOptions.greedy(1));
        assertThat(mp.tokens()).isEqualTo(ints(p.get("tokens")));
        assertThat(mp.patchPositions()).isEqualTo(ints(p.get("patch_token_positions")));
        assertMatchesMeta(lastLogits(model, mp), p);
    }

    @Test
    void twoImagesInOnePromptThroughMetasFormatAndTheTemplate() throws IOException {
        JsonNode p = prompt("two_images");
        ArrayNodeBuilder parts = new ArrayNodeBuilder().text("Compare").image(image("wide_200x90")).text("with")
                .image(image("gray_120")).text("What is different?");
        List<ChatMessage> messages = List.of(new ChatMessage("user", parts.node, List.of()));
        // Meta's ChatFormat tokenizes every content item on its own: the built-in format does the same.
        ChatModel metaFormat = new ChatModel(model.model(), model.tokenizer(), null, model.vision().orElseThrow());
        MultimodalPrompt meta = metaFormat.prompt(messages, ChatOptions.greedy(1));
        assertThat(meta.tokens()).isEqualTo(ints(p.get("tokens")));
        assertThat(meta.patchPositions()).isEqualTo(ints(p.get("patch_token_positions")));
        assertMatchesMeta(lastLogits(metaFormat, meta), p);
        // The HF template renders the same images in the same places; only text runs may tokenize differently.
        MultimodalPrompt hf = model.prompt(messages, ChatOptions.greedy(1));
        assertThat(hf.patchPositions().length).isEqualTo(meta.patchPositions().length);
        float[][] a = hf.patchEmbeddings();
        float[][] b = meta.patchEmbeddings();
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        // the encoder's kernels may split reductions differently from run to run: equal up to float rounding
        assertThat(max).isLessThanOrEqualTo(1e-5f);
    }

    @Test
    void chatGeneratesFromTheFusedPrefill() throws IOException {
        JsonNode p = prompt("one_image_wide_200x90");
        List<ChatMessage> messages = List.of(ChatMessage.userWithImages("Describe this image.", image("wide_200x90")));
        ChatResponse r = model.chat(messages, ChatOptions.greedy(3));
        JsonNode argmax = p.get("argmax_per_position");
        assertThat(r.promptTokens()).isEqualTo(p.get("tokens").size());
        // greedy: the first token is the argmax of Meta's last-position logits
        assertThat(r.generation().tokens()[0]).isEqualTo(argmax.get(argmax.size() - 1).asInt());
    }

    @Test
    void aConversationReusesItsCacheAcrossAnImageTurnAndMatchesAFreshRun() {
        try (Conversation c = model.newConversation()) {
            c.send(ChatMessage.userWithImages("Describe this image.", image("gradient_56")), ChatOptions.greedy(4),
                    d -> { }, null);
            int afterFirst = c.cachedTokens();
            ChatResponse second = c.send(ChatMessage.userWithImages("And this one?", image("small_30x20")),
                    ChatOptions.greedy(4), d -> { }, null);
            assertThat(c.cachedTokens()).isGreaterThan(afterFirst);
            List<ChatMessage> history = c.messages().subList(0, 3);
            ChatResponse fresh = model.chat(history, ChatOptions.greedy(4));
            assertThat(second.generation().tokens()).isEqualTo(fresh.generation().tokens());
        }
    }

    @Test
    void unreadableImagesAreSpecificErrorsAndLeaveTheConversationAsItWas() throws IOException {
        Path notAnImage = Files.createTempFile("llama4j-not-an-image", ".png");
        try (Conversation c = model.newConversation()) {
            Files.writeString(notAnImage, "plain text, not a PNG");
            assertThatThrownBy(() -> c.send(ChatMessage.userWithImages("?", ImageInput.file(notAnImage)),
                    ChatOptions.greedy(1), d -> { }, null)).isInstanceOf(ImageLoadException.class)
                    .hasMessageContaining(notAnImage.toString());
            assertThatThrownBy(() -> c.send(ChatMessage.userWithImages("?", ImageInput.file(dir.resolve("missing.png"))),
                    ChatOptions.greedy(1), d -> { }, null)).isInstanceOf(ImageLoadException.class)
                    .hasMessageContaining("not found");
            assertThatThrownBy(() -> c.send(ChatMessage.userWithImages("?",
                    ImageInput.dataUrl("data:image/png;base64,!!garbage!!")), ChatOptions.greedy(1), d -> { }, null))
                    .isInstanceOf(ImageLoadException.class).hasMessageContaining("malformed base64");
            assertThat(c.messages()).isEmpty();
        } finally {
            Files.deleteIfExists(notAnImage);
        }
    }

    @Test
    void imagesThatDoNotFitTheContextAreRejectedBeforeEncoding() {
        var tower = model.vision().orElseThrow();
        long tilesBefore = tower.stats().tiles();
        int[] ids = model.promptTokens(List.of(ChatMessage.userWithImages("?", image("large_500x310"))),
                ChatOptions.greedy(1));
        assertThatThrownBy(() -> tower.prompt(ids, List.of(image("large_500x310")), 64, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16 tile(s)")
                .hasMessageContaining("context holds 64");
        assertThat(tower.stats().tiles()).isEqualTo(tilesBefore);
    }

    @Test
    void maxImageTilesOverridesThePreprocessorConfig() {
        try (ChatModel fewTiles = ChatModel.load(dir, LoadOptions.defaults().withMaxImageTiles(2))) {
            MultimodalPrompt mp = fewTiles.prompt(
                    List.of(ChatMessage.userWithImages("?", image("large_500x310"))), ChatOptions.greedy(1));
            assertThat(fewTiles.vision().orElseThrow().preprocessorConfig().maxPatches()).isEqualTo(2);
            // at most 2 local tiles plus the global one, 4 rows each
            assertThat(mp.patchPositions().length).isLessThanOrEqualTo(3 * 4);
        }
    }

    @Test
    void aModelWithoutAVisionTowerRejectsImages() {
        try (ChatModel textOnly = ChatModel.load(TinyModels.tinyGguf())) {
            assertThat(textOnly.vision()).isEmpty();
            assertThatThrownBy(() -> textOnly.chat(List.of(ChatMessage.userWithImages("?", image("gradient_56"))),
                    ChatOptions.greedy(1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("no vision tower");
        }
    }

    @Test
    void anMmprojFileServesAsTheVisionTower(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Path mmproj = tmp.resolve("mmproj-f32.gguf");
        try (var folder = org.llama4j.format.hf.HfModelFolder.open(dir)) {
            org.llama4j.vision.MmprojWriter.write(folder, mmproj, org.llama4j.tensor.GgmlType.F32);
        }
        JsonNode p = prompt("one_image_gray_120");
        try (ChatModel withMmproj = ChatModel.load(dir, LoadOptions.defaults().withMmproj(mmproj))) {
            MultimodalPrompt mp = withMmproj.prompt(
                    List.of(ChatMessage.userWithImages("Describe this image.", image("gray_120"))), ChatOptions.greedy(1));
            assertThat(mp.tokens()).isEqualTo(ints(p.get("tokens")));
            assertMatchesMeta(lastLogits(withMmproj, mp), p);
        }
        // a tower whose projector does not produce the text model's width is refused at load time
        assertThatThrownBy(() -> ChatModel.load(TinyModels.tinyGguf(), LoadOptions.defaults().withMmproj(mmproj)))
                .isInstanceOf(org.llama4j.format.ModelFormatException.class)
                .hasMessageContaining("produces rows of 32 but the text model's hidden size is 256");
    }

    /** Content parts in order, as an OpenAI client would send them. */
    private static final class ArrayNodeBuilder {
        final com.fasterxml.jackson.databind.node.ArrayNode node = JSON.createArrayNode();

        ArrayNodeBuilder text(String t) {
            node.addObject().put("type", "text").put("text", t);
            return this;
        }

        ArrayNodeBuilder image(ImageInput i) {
            node.add(i.toContentPart());
            return this;
        }
    }
}
