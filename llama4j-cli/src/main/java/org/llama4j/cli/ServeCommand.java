package org.llama4j.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.llama4j.api.ChatModel;
import org.llama4j.api.LoadOptions;
import org.llama4j.model.Llama4Model;
import org.llama4j.safety.guard.GuardOptions;
import org.llama4j.safety.guard.HazardCategory;
import org.llama4j.safety.guard.Llama4GuardModel;
import org.llama4j.safety.guard.LlamaGuard;
import org.llama4j.safety.promptguard.PromptGuard;
import org.llama4j.server.OpenAiServer;
import org.llama4j.server.ServerOptions;
import org.llama4j.server.ShieldConfig;
import org.llama4j.server.TokenSampler;
import org.llama4j.tokenizer.TokenizerLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code llama4j serve}: the OpenAI-compatible HTTP server with continuous batching. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions,"
                + " /v1/moderations, /v1/models, /health, /metrics). Chats are rendered with the model's chat"
                + " template (Meta's built-in Llama 4 format when it ships none); with a vision tower (the model's"
                + " own, or --mmproj) chats may carry images as data: URLs.")
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face model folder or .gguf file")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "interface to bind (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--parallel", defaultValue = "4",
            description = "sequences decoded together, one KV cache slot each (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--ctx-size", defaultValue = "4096",
            description = "tokens per slot, prompt plus completion; capped at the model's context (default: ${DEFAULT-VALUE})")
    int contextSize;

    @Option(names = "--api-key", description = "require 'Authorization: Bearer KEY' on /v1 routes")
    String apiKey;

    @Option(names = "--queue", defaultValue = "64",
            description = "requests that may wait for a slot before 429 (default: ${DEFAULT-VALUE})")
    int queue;

    @Option(names = "--max-body", defaultValue = "8388608",
            description = "largest request body in bytes before 413 (default: ${DEFAULT-VALUE})")
    long maxBody;

    @Mixin
    QuantizeMixin quantization;

    @Mixin
    ActivationsMixin activations;

    @Option(names = "--mmproj", paramLabel = "FILE",
            description = "The vision tower as a llama.cpp mmproj GGUF, for a text-only GGUF model: chats may then"
                    + " carry images (image_url parts with data: URLs). A Hugging Face folder whose config.json has"
                    + " vision_config brings its own.")
    Path mmproj;

    @Option(names = "--max-image-tiles", paramLabel = "N",
            description = "Cut images into at most N local tiles (default: max_patches of preprocessor_config.json,"
                    + " else 16); fewer tiles, fewer prompt tokens per image.")
    Integer maxImageTiles;

    @Option(names = "--model-id", description = "name reported by /v1/models (default: the model file name)")
    String modelId;

    @Option(names = "--guard-model", paramLabel = "PATH",
            description = "Llama Guard checkpoint (its own model instance): every request's input is checked before"
                    + " generation; a blocked request answers with finish_reason content_filter. Enables"
                    + " /v1/moderations.")
    Path guardModel;

    @Option(names = "--guard-output", description = "Also check each answer with Llama Guard; a streamed answer"
            + " is withheld until it has been checked.")
    boolean guardOutput;

    @Option(names = "--guard-categories", split = ",", paramLabel = "CODE",
            description = "Categories Llama Guard checks, e.g. S1,S2,S9 (default: S1-S14).")
    List<String> guardCategories;

    @Option(names = "--guard-exclude", split = ",", paramLabel = "CODE",
            description = "Categories to leave out, e.g. S6,S7.")
    List<String> guardExclude = List.of();

    @Option(names = "--guard-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "Longest a safety check may take before the request is blocked (default: ${DEFAULT-VALUE}).")
    double guardTimeout;

    @Option(names = "--prompt-guard-model", paramLabel = "DIR",
            description = "Prompt Guard 2 checkpoint: user and tool messages are scanned for injections before"
                    + " generation.")
    Path promptGuardModel;

    @Option(names = "--prompt-guard-threshold", paramLabel = "P", defaultValue = "0.5",
            description = "P(malicious) above which Prompt Guard blocks (default: ${DEFAULT-VALUE}).")
    double promptGuardThreshold;

    @Override
    public Integer call() throws Exception {
        if (guardOutput && guardModel == null) {
            throw new IllegalArgumentException("--guard-output needs --guard-model");
        }
        GuardOptions guardOptions = guardOptions(); // invalid category codes fail before anything loads
        LoadOptions load = LoadOptions.defaults().withWeights(activations.applyTo(quantization.loadOptions()))
                .withMmproj(mmproj);
        load = maxImageTiles == null ? load : load.withMaxImageTiles(maxImageTiles);
        String id = modelId != null ? modelId : model.getFileName().toString().replaceFirst("\\.gguf$", "");
        ServerOptions options = new ServerOptions(host, port, parallel, contextSize, apiKey, queue, maxBody, id);
        // HTTP first: /health answers 503 while the weights load.
        OpenAiServer server = OpenAiServer.start(options);
        System.err.printf("llama4j: listening on http://%s:%d, loading %s ...%n", host, server.port(), model);
        // Loaded as the library loads it: weights, tokenizer, chat template and the vision tower, if any.
        ChatModel chat = ChatModel.load(model, load);
        if (maxImageTiles != null && chat.vision().isEmpty()) {
            System.err.println("llama4j: warning: --max-image-tiles has no effect, the model has no vision tower");
        }
        Llama4Model loaded = chat.model();
        Llama4Model guard = guardModel == null ? null : Llama4Model.load(guardModel);
        PromptGuard promptGuard = promptGuardModel == null ? null
                : PromptGuard.load(promptGuardModel, promptGuardThreshold);
        ShieldConfig shields = new ShieldConfig(
                guard == null ? null : new LlamaGuard(new Llama4GuardModel(guard), TokenizerLoader.load(guardModel)),
                guardOptions, guardOutput, promptGuard, Duration.ofMillis((long) (guardTimeout * 1000)),
                Math.max(1, Math.min(parallel, Runtime.getRuntime().availableProcessors() / 2)));
        server.attach(loaded, chat.tokenizer(), chat.template(), chat.vision().orElse(null), TokenSampler.standard(),
                shields);
        System.err.printf("llama4j: ready (%s, %d slots of %d tokens%s)%n", id, parallel,
                Math.min(contextSize, loaded.config().contextLength()), chat.vision().isPresent()
                        ? ", images up to " + chat.vision().get().preprocessorConfig().maxPatches() + " tiles" : "");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            chat.close();
            if (guard != null) {
                guard.close();
            }
            if (promptGuard != null) {
                promptGuard.close();
            }
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }

    private GuardOptions guardOptions() {
        GuardOptions options = GuardOptions.defaults();
        if (guardCategories != null) {
            List<HazardCategory> offered = new ArrayList<>();
            guardCategories.forEach(code -> offered.add(HazardCategory.requireCode(code.strip())));
            options = options.withCategories(offered);
        }
        Set<HazardCategory> excluded = EnumSet.noneOf(HazardCategory.class);
        guardExclude.forEach(code -> excluded.add(HazardCategory.requireCode(code.strip())));
        return options.withExcluded(excluded);
    }
}
