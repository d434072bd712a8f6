package org.llama4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.safety.guard.GuardOptions;
import org.llama4j.safety.guard.LlamaGuard;
import org.llama4j.testing.TinyTokenizerFiles;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;

/**
 * Llama Guard shields end to end: a scripted guard model (its logits spell the verdict) answers {@code unsafe\nS1}
 * for conversations mentioning "hurt", crashes on "CRASH", stalls on "SLOW", and says {@code safe} otherwise.
 */
@Timeout(180)
class ShieldsHttpTest {
    @TempDir
    Path folder;

    static final Function<String, String> JUDGE = prompt -> {
        if (prompt.contains("CRASH")) {
            throw new IllegalStateException("guard crashed");
        }
        if (prompt.contains("SLOW")) {
            try {
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return prompt.contains("hurt") ? "unsafe\nS1" : "safe";
    };

    private ShieldConfig guarded(boolean output, Duration timeout) throws Exception {
        Tokenizer tokenizer = TokenizerLoader.load(TinyTokenizerFiles.writeTokenizerJson(Files.createDirectories(folder.resolve("guard"))));
        LlamaGuard guard = new LlamaGuard(new ScriptedGuardModel(tokenizer, JUDGE), tokenizer);
        return new ShieldConfig(guard, GuardOptions.defaults(), output, null, timeout, 2);
    }

    private ServerHarness server(ShieldConfig shields, TokenSampler.Factory samplers) throws Exception {
        return new ServerHarness(Files.createDirectories(folder.resolve("model")), ServerHarness.options(), samplers, shields);
    }

    static String chat(String user, String extra) {
        return "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":"
                + ServerHarness.JSON.valueToTree(user) + "}],\"seed\":5,\"max_tokens\":12" + extra + "}";
    }

    /** The one choice of a non-streamed answer, after checking the status. */
    static JsonNode choice(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ServerHarness.json(r.body()).at("/choices/0");
    }

    static void assertBlocked(JsonNode choice, String shield, String stage, String verdict) {
        assertThat(choice.get("finish_reason").asText()).isEqualTo("content_filter");
        assertThat(choice.at("/message/content").isNull()).isTrue();
        assertThat(choice.at("/message/refusal").asText()).startsWith(stage.equals("input") ? "The request"
                : "The response");
        JsonNode filter = choice.get("content_filter_results");
        assertThat(filter.get("flagged").asBoolean()).isTrue();
        assertThat(filter.get("shield").asText()).isEqualTo(shield);
        assertThat(filter.get("stage").asText()).isEqualTo(stage);
        assertThat(filter.get("verdict").asText()).isEqualTo(verdict);
    }

    /** The streamed events: refusal text, finish reason, content, and the filter results of a stream. */
    record Streamed(String content, String refusal, String finish, JsonNode filter) {
        static Streamed of(HttpResponse<String> r) throws Exception {
            assertThat(r.statusCode()).isEqualTo(200);
            List<String> events = OpenAiHttpTest.sseData(r.body());
            assertThat(events.getLast()).isEqualTo("[DONE]");
            StringBuilder content = new StringBuilder();
            StringBuilder refusal = new StringBuilder();
            String finish = null;
            JsonNode filter = null;
            for (String data : events.subList(0, events.size() - 1)) {
                JsonNode c = ServerHarness.json(data).at("/choices/0");
                if (c.isMissingNode()) {
                    continue;
                }
                content.append(c.at("/delta/content").asText(""));
                refusal.append(c.at("/delta/refusal").asText(""));
                if (!c.get("finish_reason").isNull()) {
                    finish = c.get("finish_reason").asText();
                    filter = c.get("content_filter_results");
                }
            }
            return new Streamed(content.toString(), refusal.toString(), finish, filter);
        }
    }

    @Test
    void unsafeInputIsBlockedBeforeGenerationAndSafeInputIsServed() throws Exception {
        try (ServerHarness h = server(guarded(false, Duration.ofSeconds(30)), TokenSampler.standard())) {
            JsonNode blocked = choice(h.post("/v1/chat/completions", chat("how do I hurt someone", "")));
            assertBlocked(blocked, "llama_guard", "input", "unsafe");
            assertThat(blocked.at("/content_filter_results/categories").toString()).isEqualTo("[\"S1\"]");
            assertThat(blocked.at("/content_filter_results/openai_categories").toString())
                    .isEqualTo("[\"violence\"]");
            assertThat(blocked.at("/content_filter_results/score").asDouble()).isGreaterThan(0.5);
            assertThat(blocked.at("/message/refusal").asText()).contains("S1");

            Streamed streamed = Streamed.of(h.post("/v1/chat/completions",
                    chat("how do I hurt someone", ",\"stream\":true")));
            assertThat(streamed.finish()).isEqualTo("content_filter");
            assertThat(streamed.content()).isEmpty();
            assertThat(streamed.refusal()).contains("S1");
            assertThat(streamed.filter().get("stage").asText()).isEqualTo("input");

            HttpResponse<String> completion = h.post("/v1/completions", "{\"prompt\":\"to hurt\",\"max_tokens\":4}");
            JsonNode c = choice(completion);
            assertThat(c.get("finish_reason").asText()).isEqualTo("content_filter");
            assertThat(c.get("text").asText()).isEmpty();

            JsonNode served = choice(h.post("/v1/chat/completions", chat("hello", "")));
            assertThat(served.get("finish_reason").asText()).isIn("stop", "length");
            assertThat(served.at("/message/content").isTextual()).isTrue();
            assertThat(h.server.metrics().shieldBlocks("llama_guard", "input", "S1")).isEqualTo(3);
            assertThat(h.get("/metrics").body()).contains(
                    "llama4j_shield_blocks_total{shield=\"llama_guard\",stage=\"input\",category=\"S1\"} 3");
        }
    }

    @Test
    void unsafeOutputIsBlockedAndAStreamIsWithheldUntilChecked() throws Exception {
        String[] script = {"I will hurt you."};
        TokenSampler.Factory scripted = (params, prompt) -> new OpenAiSdkTest.ScriptedSampler(null, script[0]);
        try (ServerHarness h = server(guarded(true, Duration.ofSeconds(30)), scripted)) {
            OpenAiSdkTest.ScriptedSampler.tokenizer = h.tiny.tokenizer;
            JsonNode blocked = choice(h.post("/v1/chat/completions", chat("tell me a story", "")));
            assertBlocked(blocked, "llama_guard", "output", "unsafe");
            JsonNode usage = ServerHarness.json(h.post("/v1/chat/completions", chat("tell me a story", "")).body())
                    .get("usage");
            assertThat(usage.get("completion_tokens").asInt()).isPositive();

            Streamed streamed = Streamed.of(h.post("/v1/chat/completions",
                    chat("tell me a story", ",\"stream\":true")));
            assertThat(streamed.content()).as("no unchecked text reaches the client").isEmpty();
            assertThat(streamed.finish()).isEqualTo("content_filter");
            assertThat(streamed.filter().get("stage").asText()).isEqualTo("output");

            script[0] = "It is sunny.";
            JsonNode served = choice(h.post("/v1/chat/completions", chat("weather?", "")));
            assertThat(served.at("/message/content").asText()).isEqualTo("It is sunny.");
            Streamed released = Streamed.of(h.post("/v1/chat/completions", chat("weather?", ",\"stream\":true")));
            assertThat(released.content()).isEqualTo("It is sunny.");
            assertThat(released.finish()).isEqualTo(served.get("finish_reason").asText());
            assertThat(h.server.metrics().shieldBlocks("llama_guard", "output", "S1")).isEqualTo(3);
        }
    }

    @Test
    void moderationsAnswerInOpenAiShape() throws Exception {
        try (ServerHarness h = server(guarded(false, Duration.ofSeconds(30)), TokenSampler.standard())) {
            HttpResponse<String> r = h.post("/v1/moderations", "{\"input\":[\"how do I hurt someone\",\"hello\"]}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode results = ServerHarness.json(r.body()).get("results");
            assertThat(results).hasSize(2);
            JsonNode unsafe = results.get(0);
            assertThat(unsafe.get("flagged").asBoolean()).isTrue();
            assertThat(unsafe.at("/categories/violence").asBoolean()).isTrue();
            assertThat(unsafe.at("/categories/hate").asBoolean()).isFalse();
            double pUnsafe = unsafe.at("/llama_guard/p_unsafe").asDouble();
            assertThat(pUnsafe).isGreaterThan(0.5).isLessThanOrEqualTo(1.0);
            assertThat(unsafe.at("/category_scores/violence").asDouble()).isEqualTo(pUnsafe);
            assertThat(unsafe.at("/category_scores/hate").asDouble()).isZero();
            assertThat(unsafe.at("/llama_guard/categories").toString()).isEqualTo("[\"S1\"]");
            assertThat(unsafe.get("categories").size()).isEqualTo(ModerationCategories.OPENAI_NAMES.size());
            JsonNode safe = results.get(1);
            assertThat(safe.get("flagged").asBoolean()).isFalse();
            assertThat(safe.at("/llama_guard/verdict").asText()).isEqualTo("safe");
            safe.get("categories").forEach(v -> assertThat(v.asBoolean()).isFalse());
            assertThat(h.server.metrics().shieldBlocks("llama_guard", "moderation", "S1")).isEqualTo(1);

            OpenAiHttpTest.assertError(h.post("/v1/moderations", "{\"input\":42}"), 400, "invalid_request_error");
        }
        try (ServerHarness unguarded = new ServerHarness(Files.createDirectories(folder.resolve("plain")), ServerHarness.options(),
                TokenSampler.standard())) {
            OpenAiHttpTest.assertError(unguarded.post("/v1/moderations", "{\"input\":\"hi\"}"), 404,
                    "invalid_request_error");
        }
    }

    @Test
    void aCrashingOrStalledGuardBlocksOnlyItsOwnRequest() throws Exception {
        try (ServerHarness h = server(guarded(false, Duration.ofMillis(1500)), TokenSampler.standard());
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> benign = new ArrayList<>();
            Future<HttpResponse<String>> crash = clients.submit(() -> h.post("/v1/chat/completions",
                    chat("CRASH please", "")));
            for (int i = 0; i < 5; i++) {
                String user = "hello number " + i;
                benign.add(clients.submit(() -> h.post("/v1/chat/completions", chat(user, ""))));
            }
            assertBlocked(choice(crash.get()), "llama_guard", "input", "error");
            for (Future<HttpResponse<String>> f : benign) {
                JsonNode c = choice(f.get());
                assertThat(c.get("finish_reason").asText()).isIn("stop", "length");
                assertThat(c.at("/message/content").isTextual()).isTrue();
            }
            assertBlocked(choice(h.post("/v1/chat/completions", chat("SLOW down", ""))), "llama_guard", "input",
                    "error");
            JsonNode after = choice(h.post("/v1/chat/completions", chat("hello again", "")));
            assertThat(after.get("finish_reason").asText()).isIn("stop", "length");
            assertThat(h.server.metrics().shieldBlocks("llama_guard", "input", "error")).isEqualTo(2);
        }
    }
}
