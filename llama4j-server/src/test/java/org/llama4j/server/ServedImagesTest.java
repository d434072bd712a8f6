package org.llama4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.llama4j.api.ChatModel;
import org.llama4j.api.ChatOptions;
import org.llama4j.api.ChatResponse;
import org.llama4j.chat.ChatMessage;
import org.llama4j.image.ImageInput;
import org.llama4j.model.InferenceSession;
import org.llama4j.safety.guard.GuardOptions;
import org.llama4j.safety.guard.LlamaGuard;
import org.llama4j.testing.TinyTokenizerFiles;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;
import org.llama4j.testing.Fixtures;
import org.llama4j.vision.MultimodalPrompt;

/**
 * Images through the server on {@code llama4-vision-tiny}, against the library: a request with {@code image_url}
 * parts answers with the same greedy first token and log-probability as {@link ChatModel#chat} on the same message,
 * also when the image patches straddle a prefill chunk boundary; bad, remote and oversized images are answered 400
 * without disturbing concurrent text requests.
 */
@Timeout(300)
class ServedImagesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONTEXT = 512;
    private static Path dir;
    private static JsonNode index;
    private static ChatModel model;
    private static OpenAiServer server;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws IOException {
        dir = Fixtures.require("llama4-vision-tiny");
        index = JSON.readTree(dir.resolve("fixtures.json").toFile());
        model = ChatModel.load(dir);
        assertThat(model.vision()).as("the fixture folder has a vision tower").isPresent();
        server = OpenAiServer.start(ServerOptions.defaults("vision-tiny").withPort(0).withParallel(3)
                .withContextSize(CONTEXT));
        server.attach(model.model(), model.tokenizer(), model.template(), model.vision().get(),
                TokenSampler.standard(), ShieldConfig.NONE);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (model != null) {
            model.close();
        }
    }

    @Test
    void oneImageAnswersLikeTheLibrary() throws Exception {
        String url = dataUrl(multiTileImage());
        ChatMessage message = ChatMessage.userWithImages("Describe this image.", ImageInput.dataUrl(url));
        JsonNode body = ok(post(request(List.of(imagePart(url), textPart("Describe this image.")))));
        expectLibraryAnswer(body, message);
    }

    @Test
    void twoImagesInOneMessageStraddlingAPrefillChunk() throws Exception {
        List<String> names = new ArrayList<>();
        prompt("two_images").get("images_in_order").forEach(n -> names.add(n.asText()));
        String first = dataUrl(imageFile(names.get(0)));
        String second = dataUrl(imageFile(names.get(1)));
        // Text before the images moves their <|patch|> rows across the scheduler's chunk boundary, so the second
        // chunk must take the rows of its own absolute positions.
        int words = 0;
        MultimodalPrompt library = null;
        for (int attempt = 0; attempt < 8; attempt++) {
            library = model.prompt(List.of(twoImages(words, first, second)), ChatOptions.greedy(1));
            int[] patches = library.patchPositions();
            int middle = (patches[0] + patches[patches.length - 1]) / 2;
            if (patches[0] < BatchScheduler.PREFILL_CHUNK && patches[patches.length - 1] >= BatchScheduler.PREFILL_CHUNK) {
                break;
            }
            words = Math.max(0, words + BatchScheduler.PREFILL_CHUNK - middle);
        }
        int[] patches = library.patchPositions();
        assertThat(patches[0]).as("first patch row in the first chunk").isLessThan(BatchScheduler.PREFILL_CHUNK);
        assertThat(patches[patches.length - 1]).as("last patch row in the second chunk")
                .isGreaterThanOrEqualTo(BatchScheduler.PREFILL_CHUNK);
        assertThat(library.length()).isLessThan(CONTEXT);

        ChatMessage message = twoImages(words, first, second);
        JsonNode body = ok(post(request(List.of(textPart(filler(words) + "Compare"), imagePart(first),
                textPart("with"), imagePart(second), textPart("What is different?")))));
        expectLibraryAnswer(body, message);
    }

    @Test
    void undecodableDataUrlIs400() throws Exception {
        String garbage = "data:image/png;base64," + Base64.getEncoder().encodeToString("not an image".getBytes());
        HttpResponse<String> r = post(request(List.of(imagePart(garbage), textPart("What is this?"))));
        expectError(r, "invalid_image");
        HttpResponse<String> notBase64 = post(request(List.of(imagePart("data:image/png;base64,@@@"),
                textPart("What is this?"))));
        expectError(notBase64, "invalid_image");
    }

    @Test
    void remoteUrlsAndLocalFilesAre400() throws Exception {
        HttpResponse<String> remote = post(request(List.of(imagePart("https://example.com/cat.png"),
                textPart("What is this?"))));
        expectError(remote, "remote_image_url");
        assertThat(ServerHarness.json(remote.body()).at("/error/message").asText()).contains("data: URL");
        String local = imageFile(multiTileImage()).toString();
        expectError(post(request(List.of(imagePart(local), textPart("What is this?")))), "invalid_image");
        expectError(post(request(List.of(imagePart("file://" + local), textPart("What is this?")))),
                "invalid_image");
    }

    @Test
    void imagesThatDoNotFitTheSlotAre400() throws Exception {
        String url = dataUrl(multiTileImage());
        var plan = model.vision().get().preprocess(ImageInput.dataUrl(url)).plan();
        int perImage = plan.totalTiles() * model.vision().get().tokensPerTile();
        List<ObjectNode> parts = new ArrayList<>();
        for (int i = 0; i * perImage <= CONTEXT; i++) {
            parts.add(imagePart(url));
        }
        parts.add(textPart("Describe these."));
        HttpResponse<String> r = post(request(parts));
        expectError(r, "context_length_exceeded");
        assertThat(ServerHarness.json(r.body()).at("/error/message").asText()).contains("image");
    }

    @Test
    void aFailingImageRequestLeavesConcurrentTextRequestsAlone() throws Exception {
        String text = "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story.\"}],\"seed\":5,"
                + "\"temperature\":0.8,\"max_tokens\":16,\"logprobs\":true}";
        JsonNode alone = ok(post(text));
        String url = dataUrl(multiTileImage());
        String bad = request(List.of(imagePart("data:image/jpeg;base64,/9j/AAAA"), textPart("What is this?")));
        String good = request(List.of(imagePart(url), textPart("Describe this image.")));
        List<CompletableFuture<HttpResponse<String>>> texts = new ArrayList<>();
        List<CompletableFuture<HttpResponse<String>>> others = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            texts.add(postAsync(text));
            others.add(postAsync(i == 1 ? good : bad));
        }
        for (CompletableFuture<HttpResponse<String>> f : texts) {
            JsonNode body = ok(f.get());
            assertThat(body.at("/choices/0/message/content")).isEqualTo(alone.at("/choices/0/message/content"));
            // Same tokens; log-probabilities to float rounding (a batched decode step sums in another order).
            JsonNode got = body.at("/choices/0/logprobs/content");
            JsonNode want = alone.at("/choices/0/logprobs/content");
            assertThat(got.size()).isEqualTo(want.size());
            for (int t = 0; t < want.size(); t++) {
                assertThat(got.get(t).get("bytes")).isEqualTo(want.get(t).get("bytes"));
                assertThat(got.get(t).get("logprob").asDouble()).isCloseTo(want.get(t).get("logprob").asDouble(),
                        org.assertj.core.data.Offset.offset(1e-4));
            }
        }
        for (int i = 0; i < others.size(); i++) {
            HttpResponse<String> r = others.get(i).get();
            if (i == 1) {
                ok(r);
            } else {
                expectError(r, "invalid_image");
            }
        }
    }

    @Test
    void textOnlyShieldsRefuseImages() throws Exception {
        Path guardDir = Files.createTempDirectory("guard");
        Tokenizer guardTokenizer = TokenizerLoader.load(TinyTokenizerFiles.writeTokenizerJson(guardDir));
        LlamaGuard guard = new LlamaGuard(new ScriptedGuardModel(guardTokenizer, prompt -> "safe"), guardTokenizer);
        try (OpenAiServer guarded = OpenAiServer.start(ServerOptions.defaults("vision-tiny").withPort(0)
                .withParallel(1).withContextSize(CONTEXT))) {
            guarded.attach(model.model(), model.tokenizer(), model.template(), model.vision().get(),
                    TokenSampler.standard(), new ShieldConfig(guard, GuardOptions.defaults(), false, null,
                            Duration.ofSeconds(30), 1));
            String url = "http://127.0.0.1:" + guarded.port() + "/v1/chat/completions";
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            request(List.of(imagePart(dataUrl(multiTileImage())), textPart("What is this?")))))
                    .build(), HttpResponse.BodyHandlers.ofString());
            expectError(r, "images_not_screened");
            HttpResponse<String> text = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(request(List.of(textPart("What is this?"))))).build(),
                    HttpResponse.BodyHandlers.ofString());
            ok(text);
        }
    }

    // ---- the library's answer -----------------------------------------------------------------------------------

    /** Same prompt length, same greedy first token, same log-probability as the library; fusion mattered. */
    private static void expectLibraryAnswer(JsonNode body, ChatMessage message) {
        List<ChatMessage> messages = List.of(message);
        MultimodalPrompt prompt = model.prompt(messages, ChatOptions.greedy(1));
        assertThat(prompt.hasImages()).isTrue();
        assertThat(body.at("/usage/prompt_tokens").asInt()).as("image tokens count in usage")
                .isEqualTo(prompt.length());

        ChatResponse chat = model.chat(messages, ChatOptions.greedy(1));
        int[] generated = chat.generation().tokens();
        int first = generated.length > 0 ? generated[0] : chat.generation().stopToken();
        assertThat(model.tokenizer().stopTokenIds()).as("the library's first token is text, so it has a logprob")
                .doesNotContain(first);
        JsonNode logprob = body.at("/choices/0/logprobs/content/0");
        assertThat(bytes(logprob.get("bytes"))).as("greedy first token").isEqualTo(model.tokenizer().tokenBytes(first));

        float[] fused = logits(prompt, true);
        double expected = logSoftmax(fused, first);
        assertThat(logprob.get("logprob").asDouble()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-4));
        // The comparison can tell: without the patch rows the same tokens give another distribution.
        double unfused = logSoftmax(logits(prompt, false), first);
        assertThat(Math.abs(unfused - expected)).as("fusion changes the log-probability").isGreaterThan(1e-3);
    }

    private static float[] logits(MultimodalPrompt prompt, boolean fuse) {
        try (InferenceSession session = model.model().newSession()) {
            return session.ingestFused(prompt.tokens(), fuse ? prompt::visionEmbeddingAt : null);
        }
    }

    private static double logSoftmax(float[] logits, int id) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        return logits[id] - max - Math.log(sum);
    }

    // ---- requests -------------------------------------------------------------------------------------------------

    private static ChatMessage twoImages(int words, String first, String second) {
        ArrayNode parts = JSON.createArrayNode();
        parts.add(textPart(filler(words) + "Compare"));
        parts.add(ImageInput.dataUrl(first).toContentPart());
        parts.add(textPart("with"));
        parts.add(ImageInput.dataUrl(second).toContentPart());
        parts.add(textPart("What is different?"));
        return new ChatMessage("user", parts, List.of());
    }

    private static String filler(int words) {
        return " word".repeat(words).strip() + (words > 0 ? " " : "");
    }

    private static String request(List<ObjectNode> parts) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode user = root.putArray("messages").addObject().put("role", "user");
        ArrayNode content = user.putArray("content");
        parts.forEach(content::add);
        root.put("temperature", 0).put("max_tokens", 1).put("logprobs", true);
        return root.toString();
    }

    private static ObjectNode imagePart(String url) {
        ObjectNode part = JSON.createObjectNode().put("type", "image_url");
        part.putObject("image_url").put("url", url);
        return part;
    }

    private static ObjectNode textPart(String text) {
        return JSON.createObjectNode().put("type", "text").put("text", text);
    }

    private static HttpRequest httpRequest(String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static HttpResponse<String> post(String body) throws Exception {
        return HTTP.send(httpRequest(body), HttpResponse.BodyHandlers.ofString());
    }

    private static CompletableFuture<HttpResponse<String>> postAsync(String body) {
        return HTTP.sendAsync(httpRequest(body), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode ok(HttpResponse<String> r) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ServerHarness.json(r.body());
    }

    private static void expectError(HttpResponse<String> r, String code) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode error = ServerHarness.json(r.body()).get("error");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("code").asText()).as(r.body()).isEqualTo(code);
    }

    private static byte[] bytes(JsonNode array) {
        byte[] out = new byte[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) array.get(i).asInt();
        }
        return out;
    }

    // ---- fixture images -------------------------------------------------------------------------------------------

    private static JsonNode prompt(String name) {
        for (JsonNode p : index.get("prompts")) {
            if (p.get("name").asText().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException(name);
    }

    /** The first fixture image cut into several tiles (so it has tile separators and a global tile). */
    private static String multiTileImage() {
        for (JsonNode img : index.get("images")) {
            if (img.get("has_global_tile").asBoolean()) {
                return img.get("name").asText();
            }
        }
        throw new IllegalStateException("no multi-tile image in the fixture");
    }

    private static Path imageFile(String name) {
        for (JsonNode img : index.get("images")) {
            if (img.get("name").asText().equals(name)) {
                return dir.resolve(img.get("image_file").asText());
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static String dataUrl(String name) throws IOException {
        return dataUrl(imageFile(name));
    }

    private static String dataUrl(Path file) throws IOException {
        String f = file.getFileName().toString();
        String type = f.endsWith(".png") ? "image/png" : f.endsWith(".jpg") ? "image/jpeg" : "application/octet-stream";
        return "data:" + type + ";base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(file));
    }
}
