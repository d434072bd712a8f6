package org.llama4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ChatTemplate;
import org.llama4j.chat.PromptEncoder;

/** The API over plain HTTP: streaming equivalence, usage, errors in OpenAI's shape, disconnects. */
@Timeout(120)
class OpenAiHttpTest {
    @TempDir
    static Path folder;
    static ServerHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new ServerHarness(folder, ServerHarness.options().withApiKey("sekret").withMaxBodyBytes(64 * 1024),
                TokenSampler.standard());
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static final String AUTH = "Bearer sekret";

    static String chat(String extra) {
        return "{\"model\":\"tiny-llama4\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"hello world <|eot|>\"}]" + extra + "}";
    }

    @Test
    void streamedDeltasReassembleToTheNonStreamingAnswerWithTheSameSeed() throws Exception {
        String extra = ",\"seed\":7,\"temperature\":0.9,\"max_tokens\":24";
        HttpResponse<String> plain = h.post("/v1/chat/completions", chat(extra), "Authorization", AUTH);
        assertThat(plain.statusCode()).isEqualTo(200);
        JsonNode body = ServerHarness.json(plain.body());
        String content = body.at("/choices/0/message/content").asText();
        assertThat(body.at("/object").asText()).isEqualTo("chat.completion");
        assertThat(body.at("/choices/0/finish_reason").asText()).isIn("stop", "length");
        JsonNode usage = body.get("usage");
        assertThat(usage.get("completion_tokens").asInt()).isBetween(1, 24);
        // The prompt is the official template's rendering, content encoded as plain text.
        int[] expectedPrompt = PromptEncoder.encode(h.tiny.tokenizer, ServerHarness.OFFICIAL_TEMPLATE.render(
                List.of(ChatMessage.system("Be brief."), ChatMessage.user("hello world <|eot|>")), null, true, null));
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(expectedPrompt.length);
        assertThat(usage.get("total_tokens").asInt())
                .isEqualTo(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt());

        HttpResponse<String> streamed = h.post("/v1/chat/completions",
                chat(extra + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}"), "Authorization", AUTH);
        assertThat(streamed.statusCode()).isEqualTo(200);
        assertThat(streamed.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode streamUsage = null;
        List<String> events = sseData(streamed.body());
        assertThat(events.getLast()).isEqualTo("[DONE]");
        for (String data : events.subList(0, events.size() - 1)) {
            JsonNode chunk = ServerHarness.json(data);
            assertThat(chunk.get("object").asText()).isEqualTo("chat.completion.chunk");
            if (chunk.get("choices").isEmpty()) {
                streamUsage = chunk.get("usage");
                continue;
            }
            text.append(chunk.at("/choices/0/delta/content").asText(""));
            if (!chunk.at("/choices/0/finish_reason").isNull()) {
                finish = chunk.at("/choices/0/finish_reason").asText();
            }
        }
        assertThat(text.toString()).isEqualTo(content);
        assertThat(finish).isEqualTo(body.at("/choices/0/finish_reason").asText());
        assertThat(streamUsage).isEqualTo(usage);
    }

    @Test
    void specialTokenTextFromTheClientIsPlainTextWithAndWithoutATemplate() {
        int eot = h.tiny.tokenizer.eotId();
        for (Optional<ChatTemplate> template : List.of(Optional.<ChatTemplate>empty(),
                Optional.of(ServerHarness.OFFICIAL_TEMPLATE))) {
            int[] ids = new ChatPrompts(h.tiny.tokenizer, template).chat(List.of(ChatMessage.user("a<|eot|>b")), null,
                    null);
            long eots = Arrays.stream(ids).filter(id -> id == eot).count();
            assertThat(eots).as("only the template's end of turn (" + template + ")").isEqualTo(1);
        }
    }

    @Test
    void toolsNeedAChatTemplate() throws Exception {
        JsonNode tools = ServerHarness.json("[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]");
        List<ChatMessage> chat = List.of(ChatMessage.user("hi"));
        assertThat(new ChatPrompts(h.tiny.tokenizer, Optional.of(ServerHarness.OFFICIAL_TEMPLATE)).chat(chat, tools,
                null)).isNotEmpty();
        assertThatThrownBy(() -> new ChatPrompts(h.tiny.tokenizer, Optional.empty()).chat(chat, tools, null))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400));
    }

    @Test
    void completionsEndpointHonoursMaxTokensStopAndLogprobs() throws Exception {
        HttpResponse<String> r = h.post("/v1/completions",
                "{\"prompt\":\"hello\",\"max_tokens\":5,\"seed\":3,\"logprobs\":2}", "Authorization", AUTH);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = ServerHarness.json(r.body());
        assertThat(body.get("object").asText()).isEqualTo("text_completion");
        assertThat(body.at("/usage/completion_tokens").asInt()).isBetween(1, 5);
        JsonNode lp = body.at("/choices/0/logprobs");
        assertThat(lp.get("tokens").size()).isEqualTo(body.at("/usage/completion_tokens").asInt());
        assertThat(lp.get("top_logprobs").get(0).size()).isEqualTo(2);
        for (JsonNode v : lp.get("token_logprobs")) {
            assertThat(v.asDouble()).isLessThanOrEqualTo(0.0);
        }
        // A stop string made of the first generated text ends the answer before it.
        String text = body.at("/choices/0/text").asText();
        if (!text.isEmpty()) {
            String stop = text.substring(0, 1);
            HttpResponse<String> stopped = h.post("/v1/completions", "{\"prompt\":\"hello\",\"max_tokens\":5,"
                    + "\"seed\":3,\"stop\":" + ServerHarness.JSON.writeValueAsString(stop) + "}", "Authorization", AUTH);
            JsonNode s = ServerHarness.json(stopped.body());
            assertThat(s.at("/choices/0/text").asText()).isEmpty();
            assertThat(s.at("/choices/0/finish_reason").asText()).isEqualTo("stop");
        }
    }

    @Test
    void modelsHealthAndMetrics() throws Exception {
        JsonNode models = ServerHarness.json(h.get("/v1/models", "Authorization", AUTH).body());
        assertThat(models.at("/data/0/id").asText()).isEqualTo("tiny-llama4");
        assertThat(h.get("/health").statusCode()).isEqualTo(200);
        h.post("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":2}", "Authorization", AUTH);
        String metrics = h.get("/metrics").body();
        assertThat(metrics).contains("llama4j_requests_total{route=\"/v1/completions\",status=\"200\"}")
                .contains("llama4j_completion_tokens_total").contains("llama4j_queue_depth 0")
                .contains("llama4j_kv_cache_usage_ratio").contains("llama4j_decode_tokens_per_second")
                .contains("llama4j_slots 4");
    }

    @Test
    void healthIs503UntilTheModelIsAttached() throws Exception {
        try (OpenAiServer loading = OpenAiServer.start(ServerHarness.options().withPort(0))) {
            String base = "http://127.0.0.1:" + loading.port();
            HttpResponse<String> health = h.http.send(HttpRequest.newBuilder(URI.create(base + "/health"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(503);
            HttpResponse<String> chat = h.http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(chat(""))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertError(chat, 503, "server_error");
            loading.attach(h.tiny.model, h.tiny.tokenizer, TokenSampler.standard());
            HttpResponse<String> up = h.http.send(HttpRequest.newBuilder(URI.create(base + "/health"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(up.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void errorsUseTheOpenAiShapeAndStatus() throws Exception {
        String c = "/v1/chat/completions";
        assertError(h.post(c, chat("")), 401, "invalid_request_error");
        assertError(h.post(c, chat(""), "Authorization", "Bearer wrong"), 401, "invalid_request_error");
        assertError(h.post(c, "{not json", "Authorization", AUTH), 400, "invalid_request_error");
        assertError(h.post(c, "[1,2]", "Authorization", AUTH), 400, "invalid_request_error");
        assertThat(param(h.post(c, chat(",\"temperature\":\"hot\""), "Authorization", AUTH), 400))
                .isEqualTo("temperature");
        assertThat(param(h.post(c, chat(",\"max_tokens\":0"), "Authorization", AUTH), 400)).isEqualTo("max_tokens");
        assertThat(param(h.post(c, chat(",\"max_tokens\":100000"), "Authorization", AUTH), 400))
                .isEqualTo("max_tokens");
        assertThat(param(h.post(c, chat(",\"n\":2"), "Authorization", AUTH), 400)).isEqualTo("n");
        assertThat(param(h.post(c, chat(",\"stop\":5"), "Authorization", AUTH), 400)).isEqualTo("stop");
        assertThat(param(h.post(c, "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "Authorization",
                AUTH), 400)).isEqualTo("messages[0].role");
        assertThat(param(h.post(c, "{\"messages\":\"hi\"}", "Authorization", AUTH), 400)).isEqualTo("messages");
        String longPrompt = "x ".repeat(600);
        HttpResponse<String> tooLong = h.post(c, "{\"messages\":[{\"role\":\"user\",\"content\":\"" + longPrompt
                + "\"}]}", "Authorization", AUTH);
        assertError(tooLong, 400, "invalid_request_error");
        assertThat(ServerHarness.json(tooLong.body()).at("/error/code").asText()).isEqualTo("context_length_exceeded");
        String huge = "{\"prompt\":\"" + "a".repeat(70 * 1024) + "\"}";
        assertError(h.post("/v1/completions", huge, "Authorization", AUTH), 413, "invalid_request_error");
        assertError(h.post("/v1/nothing", "{}", "Authorization", AUTH), 404, "invalid_request_error");
        assertError(h.get(c, "Authorization", AUTH), 405, "invalid_request_error");
        // The server is unharmed: a valid request still works.
        assertThat(h.post(c, chat(",\"max_tokens\":3"), "Authorization", AUTH).statusCode()).isEqualTo(200);
    }

    @Test
    void disconnectingClientFreesItsSlot(@TempDir Path own) throws Exception {
        // A sampler that takes 5 ms per token stands in for a slow model, so the generation (500 tokens) certainly
        // outlives the client, whatever the socket buffers absorb.
        TokenSampler.Factory slow = (params, prompt) -> new TokenSampler() {
            @Override
            public int sample(float[] logits) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return 'a';
            }

            @Override
            public void accept(int token) {
            }
        };
        try (ServerHarness slowServer = new ServerHarness(own, ServerHarness.options(), slow)) {
            // A raw socket, not HttpClient: closing HttpClient's body stream does not promise to close the TCP
            // connection at once, and a connection left open absorbs the whole stream. A zero linger makes the
            // close a reset, so the server's very next write fails, as it does when a real client dies.
            URI base = URI.create(slowServer.base());
            byte[] body = "{\"prompt\":\"hello\",\"max_tokens\":500,\"stream\":true}"
                    .getBytes(StandardCharsets.UTF_8);
            try (Socket socket = new Socket(base.getHost(), base.getPort())) {
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: " + base.getAuthority()
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                InputStream in = socket.getInputStream();
                StringBuilder seen = new StringBuilder();
                byte[] buffer = new byte[256];
                while (!seen.toString().contains("data: ")) {
                    int n = in.read(buffer);
                    assertThat(n).as("the stream ended before its first event: %s", seen).isPositive();
                    seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
                assertThat(seen.toString()).startsWith("HTTP/1.1 200");
                awaitActiveSlots(slowServer, 1);
                socket.setSoLinger(true, 0);
            }
            awaitActiveSlots(slowServer, 0);
            assertThat(slowServer.get("/metrics").body()).contains("llama4j_cancelled_total 1")
                    .doesNotContain("llama4j_completion_tokens_total 500");
        }
    }

    private static void awaitActiveSlots(ServerHarness server, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (server.server.metrics().activeSlots() != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(server.server.metrics().activeSlots()).isEqualTo(expected);
    }

    static List<String> sseData(String body) {
        List<String> out = new ArrayList<>();
        for (String event : body.split("\n\n")) {
            if (event.startsWith("data: ")) {
                out.add(event.substring(6));
            }
        }
        return out;
    }

    static void assertError(HttpResponse<String> r, int status, String type) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode error = ServerHarness.json(r.body()).get("error");
        assertThat(error).as(r.body()).isNotNull();
        assertThat(error.get("type").asText()).isEqualTo(type);
        assertThat(error.get("message").asText()).isNotBlank();
        assertThat(error.has("param")).isTrue();
        assertThat(error.has("code")).isTrue();
    }

    static String param(HttpResponse<String> r, int status) throws Exception {
        assertError(r, status, "invalid_request_error");
        return ServerHarness.json(r.body()).at("/error/param").asText();
    }

    @SuppressWarnings("unused")
    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
