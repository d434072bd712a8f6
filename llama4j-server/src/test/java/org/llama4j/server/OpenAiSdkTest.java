package org.llama4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;

/** The official OpenAI Java SDK against the server: chat, streaming, tool calls, auth, load. */
@Timeout(180)
class OpenAiSdkTest {
    @TempDir
    Path folder;

    private static OpenAIClient client(ServerHarness h, String key) {
        return OpenAIOkHttpClient.builder().baseUrl(h.base() + "/v1").apiKey(key).maxRetries(0)
                .timeout(Duration.ofSeconds(60)).build();
    }

    private static ChatCompletionCreateParams chat(String user, long seed, int maxTokens) {
        return ChatCompletionCreateParams.builder().model("tiny-llama4").addSystemMessage("You are terse.")
                .addUserMessage(user).seed(seed).temperature(0.8).maxCompletionTokens(maxTokens).build();
    }

    private static String streamText(OpenAIClient client, ChatCompletionCreateParams params) {
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append)));
        }
        return text.toString();
    }

    @Test
    void chatStreamingAndAuthThroughTheSdk() throws Exception {
        try (ServerHarness h = new ServerHarness(folder, ServerHarness.options().withApiKey("k1"),
                TokenSampler.standard())) {
            OpenAIClient client = client(h, "k1");
            ChatCompletion completion = client.chat().completions().create(chat("hello", 42, 20));
            String content = completion.choices().getFirst().message().content().orElseThrow();
            assertThat(completion.usage().orElseThrow().completionTokens()).isBetween(1L, 20L);
            assertThat(streamText(client, chat("hello", 42, 20))).isEqualTo(content);
            assertThat(client.models().list().data().getFirst().id()).isEqualTo("tiny-llama4");
            assertThatThrownBy(() -> client(h, "wrong").chat().completions().create(chat("hi", 1, 2)))
                    .isInstanceOf(UnauthorizedException.class);
        }
    }

    @Test
    void forcedToolCallsComeBackAsToolCallsInBothForms() throws Exception {
        // The test double replaces only the model's output text: a sampler that spells a scripted answer.
        String[] script = {"[get_weather(city=\"Paris\", days=3), get_time(zone='CET')]"};
        TokenSampler.Factory scripted = (params, prompt) -> new ScriptedSampler(null, script[0]);
        try (ServerHarness h = new ServerHarness(folder, ServerHarness.options(), scripted)) {
            ScriptedSampler.tokenizer = h.tiny.tokenizer;
            OpenAIClient client = client(h, "none");
            ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("tiny-llama4")
                    .addUserMessage("weather in Paris?").addTool(ChatCompletionFunctionTool.builder()
                            .function(FunctionDefinition.builder().name("get_weather").parameters(
                                    FunctionParameters.builder().putAdditionalProperty("type",
                                            JsonValue.from("object")).build()).build()).build())
                    .maxCompletionTokens(200).build();
            ChatCompletion pythonic = client.chat().completions().create(params);
            assertThat(pythonic.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
            List<ChatCompletionMessageToolCall> calls = pythonic.choices().getFirst().message().toolCalls().orElseThrow();
            assertThat(calls).hasSize(2);
            assertThat(calls.get(0).asFunction().function().name()).isEqualTo("get_weather");
            assertThat(ServerHarness.json(calls.get(0).asFunction().function().arguments()))
                    .isEqualTo(ServerHarness.json("{\"city\":\"Paris\",\"days\":3}"));
            assertThat(calls.get(1).asFunction().function().name()).isEqualTo("get_time");

            script[0] = "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}";
            ChatCompletion json = client.chat().completions().create(params);
            assertThat(json.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
            assertThat(ServerHarness.json(json.choices().getFirst().message().toolCalls().orElseThrow().getFirst()
                    .asFunction().function().arguments())).isEqualTo(ServerHarness.json("{\"city\":\"Oslo\"}"));

            // Streaming: the call arrives as a tool_calls delta, with no content before it.
            StringBuilder content = new StringBuilder();
            List<String> names = new ArrayList<>();
            List<String> finishes = new ArrayList<>();
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(chunk -> chunk.choices().forEach(c -> {
                    c.delta().content().ifPresent(content::append);
                    c.delta().toolCalls().ifPresent(tc -> tc.forEach(t -> t.function()
                            .flatMap(ChatCompletionChunk.Choice.Delta.ToolCall.Function::name).ifPresent(names::add)));
                    c.finishReason().ifPresent(f -> finishes.add(f.asString()));
                }));
            }
            assertThat(content.toString()).isEmpty();
            assertThat(names).containsExactly("get_weather");
            assertThat(finishes).containsExactly("tool_calls");

            // Ordinary text with tools offered stays content.
            script[0] = "It is sunny.";
            ChatCompletion text = client.chat().completions().create(params);
            assertThat(text.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
            assertThat(text.choices().getFirst().message().content()).contains("It is sunny.");
        }
    }

    @Test
    void jsonModeValidatesTheOutput() throws Exception {
        String[] script = {"{\"answer\": 42}"};
        TokenSampler.Factory scripted = (params, prompt) -> new ScriptedSampler(null, script[0]);
        try (ServerHarness h = new ServerHarness(folder, ServerHarness.options(), scripted)) {
            ScriptedSampler.tokenizer = h.tiny.tokenizer;
            String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"json please\"}],"
                    + "\"response_format\":{\"type\":\"json_object\"}}";
            var ok = h.post("/v1/chat/completions", body);
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ServerHarness.json(ServerHarness.json(ok.body()).at("/choices/0/message/content").asText()))
                    .isEqualTo(ServerHarness.json("{\"answer\":42}"));
            script[0] = "not json";
            var bad = h.post("/v1/chat/completions", body);
            assertThat(bad.statusCode()).isEqualTo(500);
            assertThat(ServerHarness.json(bad.body()).at("/error/code").asText()).isEqualTo("invalid_json_output");
        }
    }

    @Test
    void queueFullAnswers429() throws Exception {
        // One slot, no queue. The first generation is held inside its first sampling step (the scheduler waits on
        // a latch), so it certainly occupies the slot while a second request arrives.
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch sampling = new java.util.concurrent.CountDownLatch(1);
        TokenSampler.Factory held = (params, prompt) -> new TokenSampler() {
            @Override
            public int sample(float[] logits) {
                sampling.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return 0;
            }

            @Override
            public void accept(int token) {
            }
        };
        try (ServerHarness h = new ServerHarness(folder, ServerHarness.options().withParallel(1).withQueueCapacity(0),
                held)) {
            OpenAIClient client = client(h, "x");
            ExecutorService first = Executors.newSingleThreadExecutor();
            try {
                Future<ChatCompletion> running = first.submit(() -> client.chat().completions().create(chat("a", 1, 2)));
                assertThat(sampling.await(30, TimeUnit.SECONDS)).isTrue();
                assertThatThrownBy(() -> client.chat().completions().create(chat("hi", 1, 2)))
                        .isInstanceOf(RateLimitException.class);
                release.countDown();
                assertThat(running.get(30, TimeUnit.SECONDS).usage().orElseThrow().completionTokens()).isEqualTo(2);
                // The slot is free again.
                assertThat(client.chat().completions().create(chat("b", 1, 1)).choices()).hasSize(1);
            } finally {
                release.countDown();
                first.shutdownNow();
            }
        }
    }

    @Test
    void concurrentStreamingClientsEachGetTheirOwnAnswer() throws Exception {
        try (ServerHarness h = new ServerHarness(folder, ServerHarness.options().withParallel(4).withQueueCapacity(32),
                TokenSampler.standard())) {
            OpenAIClient client = client(h, "none");
            int clients = 16;
            int requestsPerClient = 5;
            // The single-request answer for every seed, one at a time.
            Map<Long, String> expected = new java.util.HashMap<>();
            for (long seed = 0; seed < clients * requestsPerClient; seed++) {
                expected.put(seed, client.chat().completions().create(chat("load " + seed % 7, seed, 12))
                        .choices().getFirst().message().content().orElse(""));
            }
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    int clientIndex = c;
                    Callable<Integer> work = () -> {
                        int checked = 0;
                        for (int r = 0; r < requestsPerClient; r++) {
                            long seed = (long) clientIndex * requestsPerClient + r;
                            String got = streamText(client, chat("load " + seed % 7, seed, 12));
                            assertThat(got).as("client %d seed %d", clientIndex, seed).isEqualTo(expected.get(seed));
                            checked++;
                        }
                        return checked;
                    };
                    results.add(pool.submit(work));
                }
                int total = 0;
                for (Future<Integer> f : results) {
                    total += f.get(150, TimeUnit.SECONDS);
                }
                assertThat(total).isEqualTo(clients * requestsPerClient);
            } finally {
                pool.shutdownNow();
            }
            assertThat(h.get("/metrics").body()).contains("llama4j_active_slots 0").contains("llama4j_queue_depth 0");
        }
    }

    /** Spells a fixed text with the tokenizer, then ends the turn: stands in for the model's output only. */
    static final class ScriptedSampler implements TokenSampler {
        static volatile Tokenizer tokenizer;
        private final String text;
        private int[] ids;
        private int next;

        ScriptedSampler(Tokenizer unused, String text) {
            this.text = text;
        }

        @Override
        public int sample(float[] logits) {
            if (ids == null) {
                ids = tokenizer.encode(text, SpecialTokens.NONE);
            }
            return next < ids.length ? ids[next++] : tokenizer.eotId();
        }

        @Override
        public void accept(int token) {
        }
    }
}
