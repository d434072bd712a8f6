package org.llama4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image content parts on a text-only model: refused with 400 in OpenAI's error shape, saying why (no vision tower,
 * remote URL, local file, wrong role), while text parts keep working.
 */
@Timeout(120)
class ImagePartsHttpTest {
    /** A 1x1 PNG. */
    static final String PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
            + "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

    @TempDir
    static Path folder;
    static ServerHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new ServerHarness(folder, ServerHarness.options(), TokenSampler.standard());
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static String chat(String role, String parts) {
        return "{\"messages\":[{\"role\":\"" + role + "\",\"content\":[" + parts + "]}],\"max_tokens\":2}";
    }

    static String image(String url) {
        return "{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + url + "\"}}";
    }

    static final String TEXT = "{\"type\":\"text\",\"text\":\"What is this?\"}";

    private static JsonNode error(HttpResponse<String> r, String code) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode error = ServerHarness.json(r.body()).get("error");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("code").asText()).as(r.body()).isEqualTo(code);
        return error;
    }

    @Test
    void anImageToATextOnlyModelIs400() throws Exception {
        JsonNode e = error(h.post("/v1/chat/completions", chat("user", image(PIXEL) + "," + TEXT)),
                "images_not_supported");
        assertThat(e.get("message").asText()).contains("no vision tower").contains("--mmproj");
        assertThat(e.get("param").asText()).isEqualTo("messages");
    }

    @Test
    void remoteUrlsAreRefusedNamingDataUrls() throws Exception {
        for (String url : new String[] {"https://example.com/cat.png", "http://10.0.0.1/x.jpg"}) {
            JsonNode e = error(h.post("/v1/chat/completions", chat("user", image(url) + "," + TEXT)),
                    "remote_image_url");
            assertThat(e.get("message").asText()).contains("not fetched").contains("data: URL");
            assertThat(e.get("param").asText()).isEqualTo("messages[0].content[0]");
        }
    }

    @Test
    void localFilesAreNeverAcceptedFromClients() throws Exception {
        for (String path : new String[] {"/etc/hostname", "file:///etc/hostname", "relative.png"}) {
            JsonNode e = error(h.post("/v1/chat/completions", chat("user", TEXT + "," + image(path))),
                    "invalid_image");
            assertThat(e.get("message").asText()).contains("local files are not accepted");
        }
        String hfPath = "{\"type\":\"image\",\"path\":\"/etc/hostname\"}";
        error(h.post("/v1/chat/completions", chat("user", hfPath)), "invalid_image");
    }

    @Test
    void imagesOnlyInUserMessages() throws Exception {
        String body = "{\"messages\":[{\"role\":\"system\",\"content\":[" + image(PIXEL) + "]},"
                + "{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}";
        JsonNode e = error(h.post("/v1/chat/completions", body), "invalid_image");
        assertThat(e.get("message").asText()).contains("only accepted in user messages");
    }

    @Test
    void anImagePartWithoutAUrlIs400() throws Exception {
        error(h.post("/v1/chat/completions", chat("user", "{\"type\":\"image_url\",\"image_url\":{}}")),
                "invalid_image");
    }

    @Test
    void textPartsStillWork() throws Exception {
        HttpResponse<String> r = h.post("/v1/chat/completions", chat("user", TEXT + "," + TEXT));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
}
