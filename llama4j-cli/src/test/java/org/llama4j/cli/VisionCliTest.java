package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.api.ChatModel;
import org.llama4j.api.ChatOptions;
import org.llama4j.chat.ChatMessage;
import org.llama4j.image.ImageInput;
import org.llama4j.testing.Fixtures;
import org.llama4j.testing.TinyModels;

/** {@code generate --image}, {@code chat} with {@code /image} and {@code logits --image} on llama4-vision-tiny. */
class VisionCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path dir;
    private static JsonNode index;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws IOException {
        dir = Fixtures.require("llama4-vision-tiny");
        index = JSON.readTree(dir.resolve("fixtures.json").toFile());
    }

    private static JsonNode prompt(String name) {
        for (JsonNode p : index.get("prompts")) {
            if (p.get("name").asText().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static String imageFile(String name) {
        for (JsonNode img : index.get("images")) {
            if (img.get("name").asText().equals(name)) {
                return dir.resolve(img.get("image_file").asText()).toString();
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static float[] floats(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    private static String tokens(JsonNode p) {
        List<String> ids = new ArrayList<>();
        p.get("tokens").forEach(t -> ids.add(t.asText()));
        return String.join(",", ids);
    }

    /** logits --image for a fixture prompt, last position only, against Meta's logits_last. */
    private void assertLogitsMatchMeta(String promptName) throws IOException {
        JsonNode p = prompt(promptName);
        List<String> args = new ArrayList<>(List.of("logits", "--model", dir.toString(), "--tokens", tokens(p),
                "--positions", String.valueOf(p.get("tokens").size() - 1), "-o", tmp.resolve("l.bin").toString()));
        p.get("images_in_order").forEach(i -> args.addAll(List.of("--image", imageFile(i.asText()))));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        float[] got = floats(tmp.resolve("l.bin"));
        float[] expected = floats(dir.resolve(p.get("logits_last").get("file").asText()));
        assertThat(got).hasSameSizeAs(expected);
        float max = 0;
        for (int i = 0; i < got.length; i++) {
            max = Math.max(max, Math.abs(got[i] - expected[i]));
        }
        assertThat(max).as(promptName + " max |logit - Meta's|").isLessThanOrEqualTo(1e-3f);
    }

    @Test
    void logitsWithOneImageMatchMeta() throws IOException {
        assertLogitsMatchMeta("one_image_large_500x310");
    }

    @Test
    void logitsWithTwoImagesMatchMeta() throws IOException {
        assertLogitsMatchMeta("two_images");
    }

    @Test
    void logitsRejectImagesThatDoNotCoverThePatchPositions() {
        JsonNode p = prompt("two_images");
        CliRun r = CliRun.run("logits", "--model", dir.toString(), "--tokens", tokens(p), "--image",
                imageFile("wide_200x90"), "-o", tmp.resolve("l.bin").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("the token sequence has 76 <|patch|> positions").contains("36 rows");
        assertThat(tmp.resolve("l.bin")).doesNotExist();
    }

    @Test
    void logitsWithAnImageNeedAVisionTower() {
        CliRun r = CliRun.run("logits", "--model", TinyModels.tinyGguf().toString(), "--tokens", "1,2,3", "--image",
                imageFile("gradient_56"), "-o", tmp.resolve("l.bin").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("needs a model with a vision tower");
    }

    @Test
    void generateWithImagesAnswersLikeTheLibrary() {
        CliRun r = CliRun.run("generate", "--model", dir.toString(), "--image", imageFile("wide_200x90"), "--image",
                imageFile("gray_120"), "--prompt", "What is different?", "--temperature", "0", "-n", "4", "-v");
        assertThat(r.code()).as(r.err()).isZero();
        // 8 local tiles + global, then 9 + global
        assertThat(r.err()).contains("vision: 19 tiles encoded");
        try (ChatModel model = ChatModel.load(dir)) {
            String expected = model.chat(List.of(ChatMessage.userWithImages("What is different?",
                    ImageInput.of(imageFile("wide_200x90")), ImageInput.of(imageFile("gray_120")))),
                    ChatOptions.greedy(4)).text();
            assertThat(r.out()).isEqualTo(expected + System.lineSeparator());
        }
    }

    @Test
    void generateRejectsImagesInRawModeAndUnreadableImages() {
        CliRun raw = CliRun.run("generate", "--model", dir.toString(), "--raw", "--image", imageFile("gray_120"),
                "--prompt", "x");
        assertThat(raw.code()).isNotZero();
        assertThat(raw.err()).contains("--image needs the chat format");
        CliRun missing = CliRun.run("generate", "--model", dir.toString(), "--image", tmp.resolve("nope.png").toString(),
                "--prompt", "x", "-n", "1");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("nope.png").contains("not found");
        CliRun garbage = CliRun.run("generate", "--model", dir.toString(), "--image", "data:image/png;base64,%%%",
                "--prompt", "x", "-n", "1");
        assertThat(garbage.code()).isEqualTo(1);
        assertThat(garbage.err()).contains("malformed base64");
    }

    @Test
    void chatAttachesAnImageToTheNextMessage() {
        String script = "/image " + imageFile("gradient_56") + "\nDescribe this image.\nAnd now?\n";
        CliRun r = CliRun.runWithInput(script, "chat", "--model", dir.toString(), "--temperature", "0", "-n", "3");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("(image attached to the next message: " + imageFile("gradient_56") + ")");
        try (ChatModel model = ChatModel.load(dir)) {
            String first = model.chat(List.of(ChatMessage.userWithImages("Describe this image.",
                    ImageInput.of(imageFile("gradient_56")))), ChatOptions.greedy(3)).text();
            assertThat(r.out()).startsWith(first + System.lineSeparator());
        }
    }

    @Test
    void chatStopsAScriptAtAnImageItCannotRead() {
        CliRun r = CliRun.runWithInput("/image " + tmp.resolve("missing.png") + "\nhello\n", "chat", "--model",
                dir.toString(), "-n", "1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("error: ").contains("missing.png").contains("not found");
        assertThat(r.out()).isEmpty();
    }
}
