package org.llama4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.llama4j.chat.ChatMessage;

/** Image sources and the chat content parts that carry them. */
class ImageInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Test
    void openAiAndHuggingFacePartsAreRead() throws Exception {
        assertThat(ImageInput.fromContentPart(json("{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}}"), false))
                .isEqualTo(ImageInput.dataUrl("data:image/png;base64,AAAA"));
        assertThat(ImageInput.fromContentPart(json("{\"type\":\"image_url\",\"image_url\":\"data:,x\"}"), false))
                .isEqualTo(ImageInput.dataUrl("data:,x"));
        assertThat(ImageInput.fromContentPart(json("{\"type\":\"image\",\"path\":\"/tmp/cat.png\"}"), true))
                .isEqualTo(ImageInput.file(Path.of("/tmp/cat.png")));
        assertThat(ImageInput.fromContentPart(json("{\"type\":\"image\",\"url\":\"file:///tmp/cat.png\"}"), true))
                .isEqualTo(ImageInput.file(Path.of("/tmp/cat.png")));
    }

    @Test
    void contentPartsRoundTrip() {
        for (ImageInput in : List.of(ImageInput.file(Path.of("a/b.png")), ImageInput.bytes(new byte[] {1, 2, 3}))) {
            assertThat(ImageInput.fromContentPart(in.toContentPart(), true)).isEqualTo(in);
        }
        assertThat(ImageInput.bytes(new byte[] {1, 2, 3})).isEqualTo(ImageInput.dataUrl("data:;base64,AQID"));
    }

    @Test
    void partsWithoutAnImageRemoteUrlsAndForbiddenFilesAreSpecificErrors() throws Exception {
        assertThatThrownBy(() -> ImageInput.fromContentPart(json("{\"type\":\"image\"}"), true))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("carries no image");
        assertThatThrownBy(() -> ImageInput.fromContentPart(json("{\"type\":\"image_url\",\"image_url\":{}}"), true))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("carries no image");
        assertThatThrownBy(() -> ImageInput.of("https://example.com/cat.png"))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("https URLs are not fetched");
        assertThatThrownBy(() -> ImageInput.fromContentPart(json("{\"type\":\"image\",\"path\":\"/etc/passwd\"}"), false))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("local files are not accepted");
    }

    @Test
    void garbageDataUrlsFailWhenLoaded() {
        ImageLoader loader = new ImageLoader();
        assertThatThrownBy(() -> ImageInput.dataUrl("data:image/png;base64,@@not base64@@").load(loader))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("malformed base64");
        assertThatThrownBy(() -> ImageInput.dataUrl("data:image/png;base64,aGVsbG8gd29ybGQ=").load(loader))
                .isInstanceOf(ImageLoadException.class);
        assertThatThrownBy(() -> ImageInput.file(Path.of("/nonexistent/cat.png")).load(loader))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("not found");
    }

    @Test
    void userWithImagesPutsTheImagesFirstAndTemplatesSeePlaceholders() {
        ImageInput a = ImageInput.file(Path.of("a.png"));
        ImageInput b = ImageInput.bytes(new byte[] {9});
        ChatMessage m = ChatMessage.userWithImages("Compare them.", a, b);
        assertThat(m.images(true)).containsExactly(a, b);
        JsonNode parts = m.withImagePlaceholders().content();
        assertThat(parts).hasSize(3);
        assertThat(parts.get(0).toString()).isEqualTo("{\"type\":\"image\"}");
        assertThat(parts.get(1).toString()).isEqualTo("{\"type\":\"image\"}");
        assertThat(parts.get(2).path("text").asText()).isEqualTo("Compare them.");
        assertThat(ChatMessage.user("no images").images(true)).isEmpty();
        assertThatThrownBy(() -> m.images(false)).hasMessageContaining("local files are not accepted");
    }
}
