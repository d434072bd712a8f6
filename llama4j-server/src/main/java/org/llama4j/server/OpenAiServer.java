package org.llama4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.llama4j.model.Llama4Model;
import org.llama4j.server.GenerationEvent.TokenLogprob;
import org.llama4j.tokenizer.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible HTTP API over one model: {@code POST /v1/chat/completions}, {@code POST /v1/completions},
 * {@code GET /v1/models}, {@code GET /health}, {@code GET /metrics}.
 *
 * <p>HTTP comes up first and answers 503 until {@link #attach} hands over the loaded model, so orchestrators can
 * watch {@code /health} while a large model loads. Requests run on virtual threads: each validates and renders its
 * prompt, submits a {@link GenerationJob} to the {@link BatchScheduler} and relays the scheduler's events, as
 * one JSON body or as server-sent events. Every failure is answered in OpenAI's error shape.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ROUTES = Set.of("/v1/chat/completions", "/v1/completions", "/v1/models",
            "/health", "/metrics");
    private static final String JSON_INSTRUCTION = "Respond with a single valid JSON object and nothing else.";

    private final ServerOptions options;
    private final ServerMetrics metrics = new ServerMetrics();
    private final Javalin app;
    private final long created = System.currentTimeMillis() / 1000;
    private volatile Engine engine;

    /** What serves requests once the model is loaded. */
    private record Engine(BatchScheduler scheduler, Tokenizer tokenizer, Llama4PromptFormat format) {
    }

    private OpenAiServer(ServerOptions options) {
        this.options = options;
        this.app = Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.http.prefer405over404 = true;
            config.http.maxRequestSize = options.maxBodyBytes();
            config.jetty.host = options.host();
            config.jetty.port = options.port();
            config.startup.showJavalinBanner = false;
            config.requestLogger.http((ctx, ms) -> metrics.request(routeLabel(ctx), ctx.statusCode()));
            config.routes.before(this::authenticate);
            config.routes.get("/health", this::health);
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.render()));
            config.routes.get("/v1/models", this::models);
            config.routes.post("/v1/chat/completions", this::chatCompletions);
            config.routes.post("/v1/completions", this::completions);
            config.routes.exception(ApiException.class, (e, ctx) -> writeError(ctx, e));
            config.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("unexpected failure on {} {}", ctx.method(), ctx.path(), e);
                writeError(ctx, new ApiException(500, "server_error", "internal error", null, null));
            });
            config.routes.error(404, ctx -> writeError(ctx, new ApiException(404, "invalid_request_error",
                    "unknown route " + ctx.method() + " " + ctx.path(), null, "not_found")));
            config.routes.error(405, ctx -> writeError(ctx, new ApiException(405, "invalid_request_error",
                    "method " + ctx.method() + " is not allowed on " + ctx.path(), null, "method_not_allowed")));
        });
    }

    /** Starts listening; {@code /health} says 503 and the API answers 503 until {@link #attach}. */
    public static OpenAiServer start(ServerOptions options) {
        OpenAiServer server = new OpenAiServer(options);
        server.app.start();
        return server;
    }

    /** Hands over the loaded model: the scheduler thread starts and the API becomes ready. */
    public void attach(Llama4Model model, Tokenizer tokenizer, TokenSampler.Factory samplers) {
        if (engine != null) {
            throw new IllegalStateException("a model is already attached");
        }
        int context = Math.min(options.contextSize(), model.config().contextLength());
        BatchScheduler scheduler = new BatchScheduler(model, tokenizer, options.parallel(), context,
                options.queueCapacity(), samplers, metrics);
        engine = new Engine(scheduler, tokenizer, new Llama4PromptFormat(tokenizer));
    }

    public int port() {
        return app.port();
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() {
        app.stop();
        Engine e = engine;
        if (e != null) {
            e.scheduler().close();
        }
    }

    // ---- cross-cutting ----------------------------------------------------------------------------------------

    private void authenticate(Context ctx) {
        String key = options.apiKey();
        if (key == null || !ctx.path().startsWith("/v1/")) {
            return;
        }
        String header = ctx.header("Authorization");
        String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).strip()
                : "";
        // Constant-time comparison: the time to reject must not reveal how much of a guessed key was right.
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), key.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "invalid_request_error", header == null
                    ? "missing API key: send 'Authorization: Bearer <key>'" : "incorrect API key", null,
                    "invalid_api_key");
        }
    }

    private static String routeLabel(Context ctx) {
        return ROUTES.contains(ctx.path()) ? ctx.path() : "other";
    }

    private void writeError(Context ctx, ApiException e) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode error = body.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type());
        error.put("param", e.param());
        error.put("code", e.code());
        ctx.status(e.status()).contentType("application/json").result(body.toString());
    }

    private Engine ready() {
        Engine e = engine;
        if (e == null) {
            throw new ApiException(503, "server_error", "the model is still loading", null, "model_not_ready");
        }
        return e;
    }

    private ObjectNode readBody(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > options.maxBodyBytes()) {
            throw tooLarge();
        }
        byte[] bytes;
        try (InputStream in = ctx.req().getInputStream()) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            byte[] chunk = new byte[16384];
            int n;
            while ((n = in.read(chunk)) > 0) {
                buffer.write(chunk, 0, n);
                if (buffer.size() > options.maxBodyBytes()) {
                    throw tooLarge();
                }
            }
            bytes = buffer.toByteArray();
        } catch (IOException e) {
            throw ApiException.invalidRequest("could not read the request body: " + e.getMessage(), null);
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (IOException e) {
            throw ApiException.invalidRequest("the body is not valid JSON: " + firstLine(e.getMessage()), null,
                    "invalid_json");
        }
        if (root == null || !root.isObject()) {
            throw ApiException.invalidRequest("the body must be a JSON object", null, "invalid_json");
        }
        return (ObjectNode) root;
    }

    private ApiException tooLarge() {
        return new ApiException(413, "invalid_request_error", "request body larger than "
                + options.maxBodyBytes() + " bytes", null, "request_too_large");
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    // ---- simple routes ----------------------------------------------------------------------------------------

    private void health(Context ctx) {
        boolean up = engine != null;
        ctx.status(up ? 200 : 503).contentType("application/json")
                .result(JSON.createObjectNode().put("status", up ? "ok" : "loading model").toString());
    }

    private void models(Context ctx) {
        ObjectNode body = JSON.createObjectNode().put("object", "list");
        body.putArray("data").addObject().put("id", options.modelId()).put("object", "model")
                .put("created", created).put("owned_by", "llama4j");
        ctx.contentType("application/json").result(body.toString());
    }

    // ---- /v1/chat/completions ---------------------------------------------------------------------------------

    private void chatCompletions(Context ctx) throws IOException {
        ObjectNode root = readBody(ctx);
        Engine e = ready();
        RequestFields fields = new RequestFields(root);
        fields.requireSingleChoice();
        List<ChatMessage> messages = ChatMessages.parse(root.get("messages"));
        JsonNode tools = ChatMessages.tools(root);
        String toolChoice = ChatMessages.toolChoice(root, tools);
        boolean jsonMode = ChatMessages.jsonMode(root);
        boolean toolsActive = tools != null && !toolChoice.equals("none");
        String instruction = jsonMode ? JSON_INSTRUCTION : null;
        if (toolsActive && !toolChoice.equals("auto") && !toolChoice.equals("required")) {
            String call = "Call the function '" + toolChoice + "'.";
            instruction = instruction == null ? call : instruction + " " + call;
        }
        int[] prompt = e.format().render(messages, toolsActive ? tools : null, instruction);
        GenerationJob job = job(e, fields, prompt, fields.chatTopLogprobs());
        Completion c = new Completion("chatcmpl-" + randomId(), true, toolsActive, jsonMode, fields.includeUsage());
        run(ctx, e, job, c, fields.stream());
    }

    // ---- /v1/completions --------------------------------------------------------------------------------------

    private void completions(Context ctx) throws IOException {
        ObjectNode root = readBody(ctx);
        Engine e = ready();
        RequestFields fields = new RequestFields(root);
        fields.requireSingleChoice();
        JsonNode promptNode = root.get("prompt");
        String prompt;
        if (promptNode != null && promptNode.isTextual()) {
            prompt = promptNode.textValue();
        } else if (promptNode != null && promptNode.isArray() && promptNode.size() == 1
                && promptNode.get(0).isTextual()) {
            prompt = promptNode.get(0).textValue();
        } else if (promptNode == null || promptNode.isNull()) {
            throw ApiException.invalidRequest("'prompt' is required", "prompt");
        } else {
            throw RequestFields.wrongType("prompt", "a string (one prompt per request)");
        }
        if (root.hasNonNull("suffix") || fields.bool("echo", false)) {
            throw ApiException.invalidRequest("'suffix' and 'echo' are not supported", root.hasNonNull("suffix")
                    ? "suffix" : "echo");
        }
        int[] tokens = e.format().renderCompletion(prompt);
        GenerationJob job = job(e, fields, tokens, fields.completionTopLogprobs());
        Completion c = new Completion("cmpl-" + randomId(), false, false, false, fields.includeUsage());
        run(ctx, e, job, c, fields.stream());
    }

    private GenerationJob job(Engine e, RequestFields fields, int[] prompt, int topLogprobs) {
        int context = e.scheduler().contextSize();
        if (prompt.length >= context) {
            throw ApiException.invalidRequest("the prompt is " + prompt.length + " tokens, the context holds "
                    + context + " (prompt and completion together)", "messages", "context_length_exceeded");
        }
        int maxTokens = fields.maxTokens(prompt.length, context);
        return new GenerationJob(prompt, fields.sampling(), maxTokens, fields.stops(), topLogprobs);
    }

    // ---- generation relay -------------------------------------------------------------------------------------

    /** Per-request output state, shared by the streaming and the non-streaming path. */
    private final class Completion {
        final String id;
        final boolean chat;
        final boolean tools;
        final boolean jsonMode;
        final boolean includeUsage;
        final StringBuilder text = new StringBuilder();
        final List<TokenLogprob> logprobs = new ArrayList<>();
        /** Streamed text not yet sent because it might turn out to be a tool call. */
        final StringBuilder held = new StringBuilder();
        boolean holding;

        Completion(String id, boolean chat, boolean tools, boolean jsonMode, boolean includeUsage) {
            this.id = id;
            this.chat = chat;
            this.tools = tools;
            this.jsonMode = jsonMode;
            this.includeUsage = includeUsage;
            this.holding = tools;
        }

        ObjectNode envelope(boolean chunk) {
            ObjectNode o = JSON.createObjectNode();
            o.put("id", id);
            o.put("object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
            o.put("created", System.currentTimeMillis() / 1000);
            o.put("model", options.modelId());
            o.put("system_fingerprint", "llama4j");
            return o;
        }
    }

    private void run(Context ctx, Engine e, GenerationJob job, Completion c, boolean stream) throws IOException {
        GenerationHandle handle = e.scheduler().submit(job);
        boolean done = false;
        try {
            if (stream) {
                done = stream(ctx, handle, c);
            } else {
                done = collect(ctx, handle, c);
            }
        } finally {
            if (!done) {
                handle.cancel();
            }
        }
    }

    /** Waits for the whole generation and answers with one JSON body. */
    private boolean collect(Context ctx, GenerationHandle handle, Completion c) throws IOException {
        while (true) {
            GenerationEvent event = nextEvent(handle);
            switch (event) {
                case null -> {
                    continue;
                }
                case GenerationEvent.Token t -> {
                    c.text.append(t.text());
                    if (t.logprob() != null) {
                        c.logprobs.add(t.logprob());
                    }
                }
                case GenerationEvent.Failed f -> throw new ApiException(500, "server_error", f.message(), null,
                        null);
                case GenerationEvent.Finished f -> {
                    ObjectNode body = c.envelope(false);
                    ObjectNode choice = body.putArray("choices").addObject();
                    choice.put("index", 0);
                    String finish = f.finishReason();
                    if (c.chat) {
                        ObjectNode message = choice.putObject("message");
                        message.put("role", "assistant");
                        Optional<List<ToolCallExtractor.Call>> calls = c.tools
                                ? ToolCallExtractor.extract(c.text.toString()) : Optional.empty();
                        if (calls.isPresent() && !finish.equals("length")) {
                            message.putNull("content");
                            message.set("tool_calls", toolCallsJson(calls.get(), false));
                            finish = "tool_calls";
                        } else {
                            checkJson(c, finish);
                            message.put("content", c.text.toString());
                        }
                        message.putNull("refusal");
                        choice.set("logprobs", c.logprobs.isEmpty() && handle.job().topLogprobs() < 0 ? null
                                : chatLogprobs(c.logprobs));
                    } else {
                        choice.put("text", c.text.toString());
                        choice.set("logprobs", handle.job().topLogprobs() < 0 ? null
                                : completionLogprobs(c.logprobs));
                    }
                    choice.put("finish_reason", finish);
                    body.set("usage", usage(f));
                    ctx.contentType("application/json").result(body.toString());
                    return true;
                }
            }
        }
    }

    /** Relays the generation as server-sent events; a failed write means the client left: cancel. */
    private boolean stream(Context ctx, GenerationHandle handle, Completion c) {
        ctx.status(200);
        ctx.res().setContentType("text/event-stream");
        ctx.res().setCharacterEncoding("UTF-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        try {
            OutputStream out = ctx.res().getOutputStream();
            if (c.chat) {
                ObjectNode first = chunk(c);
                ((ObjectNode) first.withArray("choices").get(0)).putObject("delta").put("role", "assistant")
                        .put("content", "");
                send(out, first);
            }
            while (true) {
                GenerationEvent event = nextEvent(handle);
                switch (event) {
                    case null -> {
                        continue;
                    }
                    case GenerationEvent.Token t -> {
                        c.text.append(t.text());
                        streamText(out, c, t.text(), t.logprob());
                    }
                    case GenerationEvent.Failed f -> {
                        ObjectNode error = JSON.createObjectNode();
                        error.putObject("error").put("message", f.message()).put("type", "server_error")
                                .putNull("param").putNull("code");
                        send(out, error);
                        sendDone(out);
                        return true;
                    }
                    case GenerationEvent.Finished f -> {
                        String finish = f.finishReason();
                        Optional<List<ToolCallExtractor.Call>> calls = c.holding && !finish.equals("length")
                                ? ToolCallExtractor.extract(c.held.toString()) : Optional.empty();
                        if (calls.isPresent()) {
                            ObjectNode calling = chunk(c);
                            ((ObjectNode) calling.withArray("choices").get(0)).putObject("delta")
                                    .set("tool_calls", toolCallsJson(calls.get(), true));
                            send(out, calling);
                            finish = "tool_calls";
                        } else if (!c.held.isEmpty()) {
                            c.holding = false;
                            streamText(out, c, "", null);
                        }
                        ObjectNode last = chunk(c);
                        ObjectNode choice = (ObjectNode) last.withArray("choices").get(0);
                        if (c.chat) {
                            choice.putObject("delta");
                        } else {
                            choice.put("text", "");
                        }
                        choice.put("finish_reason", finish);
                        send(out, last);
                        if (c.jsonMode && !finish.equals("length") && !isJsonObject(c.text.toString())) {
                            ObjectNode error = JSON.createObjectNode();
                            error.putObject("error").put("message", "the model's output is not a valid JSON object")
                                    .put("type", "server_error").putNull("param").put("code", "invalid_json_output");
                            send(out, error);
                        }
                        if (c.includeUsage) {
                            ObjectNode usage = c.envelope(true);
                            usage.putArray("choices");
                            usage.set("usage", usage(f));
                            send(out, usage);
                        }
                        sendDone(out);
                        return true;
                    }
                }
            }
        } catch (IOException gone) {
            LOG.debug("client went away during streaming: {}", gone.toString());
            return false;
        }
    }

    /** Sends {@code delta} (after anything held back), unless it might still be the start of a tool call. */
    private void streamText(OutputStream out, Completion c, String delta, TokenLogprob logprob) throws IOException {
        if (logprob != null) {
            c.logprobs.add(logprob);
        }
        if (c.holding) {
            c.held.append(delta);
            if (ToolCallExtractor.mayBeToolCall(c.held.toString())) {
                return;
            }
            c.holding = false;
        }
        String text = c.held + delta;
        c.held.setLength(0);
        if (text.isEmpty() && c.logprobs.isEmpty()) {
            return;
        }
        ObjectNode chunk = chunk(c);
        ObjectNode choice = (ObjectNode) chunk.withArray("choices").get(0);
        if (c.chat) {
            choice.putObject("delta").put("content", text);
            if (!c.logprobs.isEmpty()) {
                choice.set("logprobs", chatLogprobs(c.logprobs));
            }
        } else {
            choice.put("text", text);
            if (!c.logprobs.isEmpty()) {
                choice.set("logprobs", completionLogprobs(c.logprobs));
            }
        }
        c.logprobs.clear();
        send(out, chunk);
    }

    private ObjectNode chunk(Completion c) {
        ObjectNode o = c.envelope(true);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return o;
    }

    private static void send(OutputStream out, JsonNode data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void sendDone(OutputStream out) throws IOException {
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static GenerationEvent nextEvent(GenerationHandle handle) {
        try {
            return handle.poll(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", "interrupted", null, null);
        }
    }

    private void checkJson(Completion c, String finish) {
        if (c.jsonMode && !finish.equals("length") && !isJsonObject(c.text.toString())) {
            throw new ApiException(500, "server_error", "the model's output is not a valid JSON object: "
                    + abbreviate(c.text.toString()), null, "invalid_json_output");
        }
    }

    private static boolean isJsonObject(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            return node != null && node.isObject();
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    private static ArrayNode toolCallsJson(List<ToolCallExtractor.Call> calls, boolean indexed) {
        ArrayNode array = JSON.createArrayNode();
        for (int i = 0; i < calls.size(); i++) {
            ObjectNode call = array.addObject();
            if (indexed) {
                call.put("index", i);
            }
            call.put("id", "call_" + randomId());
            call.put("type", "function");
            call.putObject("function").put("name", calls.get(i).name())
                    .put("arguments", calls.get(i).arguments().toString());
        }
        return array;
    }

    private static ObjectNode usage(GenerationEvent.Finished f) {
        return JSON.createObjectNode().put("prompt_tokens", f.promptTokens())
                .put("completion_tokens", f.completionTokens())
                .put("total_tokens", f.promptTokens() + f.completionTokens());
    }

    private static ObjectNode chatLogprobs(List<TokenLogprob> logprobs) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode content = o.putArray("content");
        for (TokenLogprob lp : logprobs) {
            ObjectNode entry = logprobEntry(lp);
            ArrayNode top = entry.putArray("top_logprobs");
            for (TokenLogprob alt : lp.top()) {
                top.add(logprobEntry(alt));
            }
            content.add(entry);
        }
        o.putNull("refusal");
        return o;
    }

    private static ObjectNode logprobEntry(TokenLogprob lp) {
        ObjectNode entry = JSON.createObjectNode();
        entry.put("token", lp.token());
        entry.put("logprob", lp.logprob());
        ArrayNode bytes = entry.putArray("bytes");
        for (byte b : lp.bytes()) {
            bytes.add(b & 0xFF);
        }
        return entry;
    }

    private static ObjectNode completionLogprobs(List<TokenLogprob> logprobs) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode tokens = o.putArray("tokens");
        ArrayNode values = o.putArray("token_logprobs");
        ArrayNode top = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        int offset = 0;
        for (TokenLogprob lp : logprobs) {
            tokens.add(lp.token());
            values.add(lp.logprob());
            ObjectNode alternatives = top.addObject();
            for (TokenLogprob alt : lp.top()) {
                alternatives.put(alt.token(), alt.logprob());
            }
            offsets.add(offset);
            offset += lp.token().length();
        }
        return o;
    }

    private static String randomId() {
        byte[] b = new byte[12];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
