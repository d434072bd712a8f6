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
import java.util.function.IntFunction;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ChatTemplate;
import org.llama4j.chat.ToolCall;
import org.llama4j.chat.ToolCallParse;
import org.llama4j.chat.ToolCallParser;
import org.llama4j.model.Llama4Model;
import org.llama4j.safety.guard.GuardResult;
import org.llama4j.safety.guard.GuardVerdict;
import org.llama4j.server.GenerationEvent.TokenLogprob;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.vision.MultimodalPrompt;
import org.llama4j.vision.VisionTower;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible HTTP API over one model: {@code POST /v1/chat/completions}, {@code POST /v1/completions},
 * {@code POST /v1/moderations} (with a guard model), {@code GET /v1/models}, {@code GET /health},
 * {@code GET /metrics}.
 *
 * <p>HTTP comes up first and answers 503 until {@link #attach} hands over the loaded model, so orchestrators can
 * watch {@code /health} while a large model loads. Requests run on virtual threads: each validates and renders its
 * prompt, submits a {@link GenerationJob} to the {@link BatchScheduler} and relays the scheduler's events, as
 * one JSON body or as server-sent events. Every failure is answered in OpenAI's error shape.
 *
 * <p>Images: with a vision tower ({@link #attach(Llama4Model, Tokenizer, Optional, VisionTower,
 * TokenSampler.Factory, ShieldConfig)}) user messages may carry {@code image_url} parts holding {@code data:} URLs
 * (remote URLs are not fetched, local paths are never accepted); their tokens count in the slot's context and in
 * {@code usage.prompt_tokens}. The shields read text only, so while any is configured image requests are refused,
 * and {@code /v1/moderations} takes text only.
 *
 * <p>Shields ({@link ShieldConfig}): the input is checked before the job is submitted, the output (with
 * {@code guardOutput}) once generation has finished; a streamed answer is then withheld until it has passed. A
 * blocked request is answered 200 in the normal shape with {@code finish_reason: "content_filter"}, the message's
 * {@code refusal} saying why, and the choice's {@code content_filter_results} naming the shield, stage, verdict
 * and categories ({@link ShieldBlock#toJson}).
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ROUTES = Set.of("/v1/chat/completions", "/v1/completions", "/v1/moderations",
            "/v1/models", "/health", "/metrics");
    private static final String JSON_INSTRUCTION = "Respond with a single valid JSON object and nothing else.";

    private final ServerOptions options;
    private final ServerMetrics metrics = new ServerMetrics();
    private final Javalin app;
    private final long created = System.currentTimeMillis() / 1000;
    private volatile Engine engine;

    /** What serves requests once the model is loaded. */
    private record Engine(BatchScheduler scheduler, Tokenizer tokenizer, ChatPrompts prompts, Shields shields) {
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
            config.routes.post("/v1/moderations", this::moderations);
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

    /** Hands over a model without a chat template (Meta's built-in format) and without shields. */
    public void attach(Llama4Model model, Tokenizer tokenizer, TokenSampler.Factory samplers) {
        attach(model, tokenizer, Optional.empty(), samplers, ShieldConfig.NONE);
    }

    /**
     * Hands over the loaded model: the scheduler thread starts and the API becomes ready.
     *
     * @param template the model's chat template ({@link ChatTemplate#forModel}); empty: Meta's built-in format
     * @param shields  the safety checks every request goes through
     */
    public void attach(Llama4Model model, Tokenizer tokenizer, Optional<ChatTemplate> template,
            TokenSampler.Factory samplers, ShieldConfig shields) {
        attach(model, tokenizer, template, null, samplers, shields);
    }

    /**
     * Hands over the loaded model with its vision tower: chats may then carry images ({@code image_url} parts with
     * {@code data:} URLs), laid out and encoded by the library's image path ({@link VisionTower#prompt}) and fused
     * into the prefill at the {@code <|patch|>} positions. The caller keeps ownership of model and tower.
     *
     * @param vision the model's vision tower ({@link VisionTower#forModel}); null: text only, image parts get 400
     */
    public void attach(Llama4Model model, Tokenizer tokenizer, Optional<ChatTemplate> template, VisionTower vision,
            TokenSampler.Factory samplers, ShieldConfig shields) {
        if (engine != null) {
            throw new IllegalStateException("a model is already attached");
        }
        int context = Math.min(options.contextSize(), model.config().contextLength());
        BatchScheduler scheduler = new BatchScheduler(model, tokenizer, options.parallel(), context,
                options.queueCapacity(), samplers, metrics);
        engine = new Engine(scheduler, tokenizer, new ChatPrompts(tokenizer, template, vision, context),
                new Shields(shields, metrics));
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
            e.shields().close();
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
        if (e.shields().checksInput() && e.prompts().hasVision() && !ChatMessages.images(messages).isEmpty()) {
            // The shields judge text only: an image would pass them unseen, so it is refused (fail closed).
            throw ApiException.invalidRequest("this server screens requests with text-only safety shields, which"
                    + " cannot check images: send the request without image parts", "messages",
                    "images_not_screened");
        }
        MultimodalPrompt prompt = e.prompts().multimodalChat(messages, toolsActive ? tools : null, instruction);
        GenerationJob job = job(e, fields, prompt.tokens(), fields.chatTopLogprobs(),
                prompt.hasImages() ? prompt::visionEmbeddingAt : null);
        Completion c = new Completion("chatcmpl-" + randomId(), true, toolsActive, jsonMode, fields.includeUsage(),
                messages, prompt.length());
        guardAndRun(ctx, e, job, c, fields.stream());
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
        int[] tokens = e.prompts().completion(prompt);
        GenerationJob job = job(e, fields, tokens, fields.completionTopLogprobs(), null);
        // The shields judge a plain prompt as a user message and its continuation as the assistant's answer.
        Completion c = new Completion("cmpl-" + randomId(), false, false, false, fields.includeUsage(),
                List.of(ChatMessage.user(prompt)), tokens.length);
        guardAndRun(ctx, e, job, c, fields.stream());
    }

    private GenerationJob job(Engine e, RequestFields fields, int[] prompt, int topLogprobs,
            IntFunction<float[]> inputEmbeddings) {
        int context = e.scheduler().contextSize();
        if (prompt.length >= context) {
            throw ApiException.invalidRequest("the prompt is " + prompt.length + " tokens, the context holds "
                    + context + " (prompt and completion together)", "messages", "context_length_exceeded");
        }
        int maxTokens = fields.maxTokens(prompt.length, context);
        return new GenerationJob(prompt, fields.sampling(), maxTokens, fields.stops(), topLogprobs, inputEmbeddings);
    }

    // ---- /v1/moderations --------------------------------------------------------------------------------------

    /**
     * OpenAI's moderation shape from Llama Guard: {@code flagged} is the guard's block decision (an error verdict, a
     * failed or timed-out check flag too: fail closed); {@code categories} uses the OpenAI names that Llama Guard's
     * reported codes map to ({@link ModerationCategories}); Llama Guard gives one calibrated P(unsafe) for the whole
     * verdict, reported in {@code category_scores} for each flagged category (0 for the others) and in
     * {@code llama_guard.p_unsafe}, with the raw codes in {@code llama_guard.categories}.
     */
    private void moderations(Context ctx) {
        ObjectNode root = readBody(ctx);
        Engine e = ready();
        if (!e.shields().hasGuard()) {
            throw new ApiException(404, "invalid_request_error", "moderation needs a guard model: start the server"
                    + " with --guard-model", null, "moderation_unavailable");
        }
        List<String> inputs = moderationInputs(root.get("input"));
        ObjectNode body = JSON.createObjectNode();
        body.put("id", "modr-" + randomId());
        body.put("model", root.path("model").isTextual() ? root.get("model").textValue() : options.modelId());
        ArrayNode results = body.putArray("results");
        for (String input : inputs) {
            Optional<GuardResult> checked = e.shields().moderate(input);
            GuardVerdict verdict = checked.map(GuardResult::verdict).orElse(GuardVerdict.error());
            double pUnsafe = verdict.pUnsafe().orElse(verdict.block() ? 1.0 : 0.0);
            Set<String> flaggedNames = ModerationCategories.openAiNames(verdict.categories());
            ObjectNode result = results.addObject();
            result.put("flagged", verdict.block());
            ObjectNode categories = result.putObject("categories");
            ObjectNode scores = result.putObject("category_scores");
            for (String name : ModerationCategories.OPENAI_NAMES) {
                categories.put(name, flaggedNames.contains(name));
                scores.put(name, flaggedNames.contains(name) ? pUnsafe : 0.0);
            }
            ObjectNode guard = result.putObject("llama_guard");
            guard.put("verdict", verdict.verdict().wireName());
            verdict.categories().forEach(guard.putArray("categories")::add);
            if (verdict.pUnsafe().isPresent()) {
                guard.put("p_unsafe", verdict.pUnsafe().getAsDouble());
            } else {
                guard.putNull("p_unsafe");
            }
            if (verdict.block()) {
                if (verdict.categories().isEmpty()) {
                    metrics.shieldBlock(ShieldBlock.LLAMA_GUARD, "moderation", ShieldBlock.ERROR);
                } else {
                    verdict.categories().forEach(code -> metrics.shieldBlock(ShieldBlock.LLAMA_GUARD, "moderation",
                            code));
                }
            }
        }
        ctx.contentType("application/json").result(body.toString());
    }

    /** A string, an array of strings, or an array of {@code {"type": "text", "text": ...}} parts. */
    private static List<String> moderationInputs(JsonNode input) {
        if (input == null || input.isNull()) {
            throw ApiException.invalidRequest("'input' is required", "input");
        }
        if (input.isTextual()) {
            return List.of(input.textValue());
        }
        if (!input.isArray() || input.isEmpty()) {
            throw RequestFields.wrongType("input", "a string or a non-empty array of strings or text parts");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : input) {
            if (item.isTextual()) {
                out.add(item.textValue());
            } else if (item.path("type").asText("").equals("text") && item.path("text").isTextual()) {
                out.add(item.get("text").textValue());
            } else {
                throw ApiException.invalidRequest("'input' items must be strings or {\"type\": \"text\", \"text\":"
                        + " ...}; images are not supported", "input");
            }
        }
        return out;
    }

    // ---- generation relay -------------------------------------------------------------------------------------

    /** Per-request output state, shared by the streaming and the non-streaming path. */
    private final class Completion {
        final String id;
        final boolean chat;
        final boolean tools;
        final boolean jsonMode;
        final boolean includeUsage;
        /** The conversation as the shields judge it. */
        final List<ChatMessage> conversation;
        final int promptTokens;
        final StringBuilder text = new StringBuilder();
        /** Log-probabilities not yet sent (streaming) or all of them (non-streaming). */
        final List<TokenLogprob> logprobs = new ArrayList<>();
        /** Characters of {@link #text} already streamed. */
        int sent;

        Completion(String id, boolean chat, boolean tools, boolean jsonMode, boolean includeUsage,
                List<ChatMessage> conversation, int promptTokens) {
            this.id = id;
            this.chat = chat;
            this.tools = tools;
            this.jsonMode = jsonMode;
            this.includeUsage = includeUsage;
            this.conversation = conversation;
            this.promptTokens = promptTokens;
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

        /** Tool calls in the finished output, when tools were offered and the answer was not cut off. */
        Optional<ToolCallParse.Calls> toolCalls(String finishReason) {
            if (tools && !finishReason.equals("length")
                    && ToolCallParser.parse(text.toString()) instanceof ToolCallParse.Calls calls) {
                return Optional.of(calls);
            }
            return Optional.empty();
        }
    }

    /** Checks the input; a blocked request never reaches the scheduler. */
    private void guardAndRun(Context ctx, Engine e, GenerationJob job, Completion c, boolean stream)
            throws IOException {
        Optional<ShieldBlock> block = e.shields().checkInput(c.conversation);
        if (block.isPresent()) {
            if (stream) {
                startEventStream(ctx);
                try {
                    sendBlocked(ctx.res().getOutputStream(), c, block.get(), 0);
                } catch (IOException gone) {
                    LOG.debug("client went away before its refusal: {}", gone.toString());
                }
            } else {
                ctx.contentType("application/json").result(blockedBody(c, block.get(), 0).toString());
            }
            return;
        }
        GenerationHandle handle = e.scheduler().submit(job);
        boolean done = false;
        try {
            if (stream) {
                done = stream(ctx, e, handle, c);
            } else {
                done = collect(ctx, e, handle, c);
            }
        } finally {
            if (!done) {
                handle.cancel();
            }
        }
    }

    /** Waits for the whole generation and answers with one JSON body. */
    private boolean collect(Context ctx, Engine e, GenerationHandle handle, Completion c) throws IOException {
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
                    Optional<ShieldBlock> block = e.shields().checkOutput(c.conversation, c.text.toString());
                    if (block.isPresent()) {
                        ctx.contentType("application/json")
                                .result(blockedBody(c, block.get(), f.completionTokens()).toString());
                        return true;
                    }
                    ObjectNode body = c.envelope(false);
                    ObjectNode choice = body.putArray("choices").addObject();
                    choice.put("index", 0);
                    String finish = f.finishReason();
                    if (c.chat) {
                        ObjectNode message = choice.putObject("message");
                        message.put("role", "assistant");
                        Optional<ToolCallParse.Calls> calls = c.toolCalls(finish);
                        if (calls.isPresent()) {
                            String before = calls.get().content();
                            if (before.isEmpty()) {
                                message.putNull("content");
                            } else {
                                message.put("content", before);
                            }
                            message.set("tool_calls", toolCallsJson(calls.get().calls(), false));
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
                    body.set("usage", usage(f.promptTokens(), f.completionTokens()));
                    ctx.contentType("application/json").result(body.toString());
                    return true;
                }
            }
        }
    }

    private static void startEventStream(Context ctx) {
        ctx.status(200);
        ctx.res().setContentType("text/event-stream");
        ctx.res().setCharacterEncoding("UTF-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
    }

    /**
     * Relays the generation as server-sent events; a failed write means the client left: cancel. With an output
     * shield the events are written to a buffer and reach the client only once the whole answer has passed; a
     * blocked answer is replaced by a refusal, so no unchecked text is ever sent.
     */
    private boolean stream(Context ctx, Engine e, GenerationHandle handle, Completion c) {
        startEventStream(ctx);
        try {
            OutputStream client = ctx.res().getOutputStream();
            ByteArrayOutputStream withheld = e.shields().guardsOutput() ? new ByteArrayOutputStream() : null;
            OutputStream out = withheld != null ? withheld : client;
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
                        if (t.logprob() != null) {
                            c.logprobs.add(t.logprob());
                        }
                        streamText(out, c, false);
                    }
                    case GenerationEvent.Failed f -> {
                        ObjectNode error = JSON.createObjectNode();
                        error.putObject("error").put("message", f.message()).put("type", "server_error")
                                .putNull("param").putNull("code");
                        // Withheld text was never checked: the client gets only the error.
                        send(client, error);
                        sendDone(client);
                        return true;
                    }
                    case GenerationEvent.Finished f -> {
                        if (withheld != null) {
                            Optional<ShieldBlock> block = e.shields().checkOutput(c.conversation, c.text.toString());
                            if (block.isPresent()) {
                                sendBlocked(client, c, block.get(), f.completionTokens());
                                return true;
                            }
                        }
                        finishStream(out, c, f);
                        if (withheld != null) {
                            withheld.writeTo(client);
                            client.flush();
                        }
                        return true;
                    }
                }
            }
        } catch (IOException gone) {
            LOG.debug("client went away during streaming: {}", gone.toString());
            return false;
        }
    }

    /** The end of a stream: held text or tool calls, the finish chunk, the JSON check, usage, [DONE]. */
    private void finishStream(OutputStream out, Completion c, GenerationEvent.Finished f) throws IOException {
        String finish = f.finishReason();
        Optional<ToolCallParse.Calls> calls = c.toolCalls(finish);
        if (calls.isPresent()) {
            // Hold-back kept everything from the start of the calls; any text before them was sent as content.
            ObjectNode calling = chunk(c);
            ((ObjectNode) calling.withArray("choices").get(0)).putObject("delta")
                    .set("tool_calls", toolCallsJson(calls.get().calls(), true));
            send(out, calling);
            finish = "tool_calls";
        } else {
            streamText(out, c, true);
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
            send(out, usageChunk(c, f.promptTokens(), f.completionTokens()));
        }
        sendDone(out);
    }

    /**
     * Sends the text not yet sent, except (while tools are offered and the answer is not finished) what might
     * still become a tool call; pending log-probabilities travel with the next text.
     */
    private void streamText(OutputStream out, Completion c, boolean finished) throws IOException {
        String all = c.text.toString();
        int releasable = c.tools && !finished ? ToolCallHoldBack.releasable(all) : all.length();
        String delta = releasable > c.sent ? all.substring(c.sent, releasable) : "";
        boolean holding = releasable < all.length();
        if (delta.isEmpty() && (c.logprobs.isEmpty() || holding)) {
            return;
        }
        c.sent += delta.length();
        ObjectNode chunk = chunk(c);
        ObjectNode choice = (ObjectNode) chunk.withArray("choices").get(0);
        if (c.chat) {
            choice.putObject("delta").put("content", delta);
            if (!c.logprobs.isEmpty()) {
                choice.set("logprobs", chatLogprobs(c.logprobs));
            }
        } else {
            choice.put("text", delta);
            if (!c.logprobs.isEmpty()) {
                choice.set("logprobs", completionLogprobs(c.logprobs));
            }
        }
        c.logprobs.clear();
        send(out, chunk);
    }

    /** The non-streaming answer of a blocked request. */
    private ObjectNode blockedBody(Completion c, ShieldBlock block, int completionTokens) {
        ObjectNode body = c.envelope(false);
        ObjectNode choice = body.putArray("choices").addObject();
        choice.put("index", 0);
        if (c.chat) {
            choice.putObject("message").put("role", "assistant").putNull("content").put("refusal", block.refusal());
        } else {
            choice.put("text", "");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", "content_filter");
        choice.set("content_filter_results", block.toJson());
        body.set("usage", usage(c.promptTokens, completionTokens));
        return body;
    }

    /** The streamed answer of a blocked request: the refusal, the content_filter finish, usage, [DONE]. */
    private void sendBlocked(OutputStream out, Completion c, ShieldBlock block, int completionTokens)
            throws IOException {
        if (c.chat) {
            ObjectNode refusal = chunk(c);
            ((ObjectNode) refusal.withArray("choices").get(0)).putObject("delta").put("role", "assistant")
                    .put("refusal", block.refusal());
            send(out, refusal);
        }
        ObjectNode last = chunk(c);
        ObjectNode choice = (ObjectNode) last.withArray("choices").get(0);
        if (c.chat) {
            choice.putObject("delta");
        } else {
            choice.put("text", "");
        }
        choice.put("finish_reason", "content_filter");
        choice.set("content_filter_results", block.toJson());
        send(out, last);
        if (c.includeUsage) {
            send(out, usageChunk(c, c.promptTokens, completionTokens));
        }
        sendDone(out);
    }

    private ObjectNode usageChunk(Completion c, int promptTokens, int completionTokens) {
        ObjectNode usage = c.envelope(true);
        usage.putArray("choices");
        usage.set("usage", usage(promptTokens, completionTokens));
        return usage;
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

    private static ArrayNode toolCallsJson(List<ToolCall> calls, boolean indexed) {
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

    private static ObjectNode usage(int promptTokens, int completionTokens) {
        return JSON.createObjectNode().put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
                .put("total_tokens", promptTokens + completionTokens);
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
