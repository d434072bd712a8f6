package org.llama4j.cli;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import org.llama4j.model.Llama4Model;
import org.llama4j.server.OpenAiServer;
import org.llama4j.server.ServerOptions;
import org.llama4j.server.TokenSampler;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llama4j serve}: the OpenAI-compatible HTTP server with continuous batching. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions,"
                + " /v1/models, /health, /metrics).")
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

    @Option(names = "--model-id", description = "name reported by /v1/models (default: the model file name)")
    String modelId;

    @Override
    public Integer call() throws Exception {
        String id = modelId != null ? modelId : model.getFileName().toString().replaceFirst("\\.gguf$", "");
        ServerOptions options = new ServerOptions(host, port, parallel, contextSize, apiKey, queue, maxBody, id);
        // HTTP first: /health answers 503 while the weights load.
        OpenAiServer server = OpenAiServer.start(options);
        System.err.printf("llama4j: listening on http://%s:%d, loading %s ...%n", host, server.port(), model);
        Llama4Model loaded = Llama4Model.load(model);
        Tokenizer tokenizer = TokenizerLoader.load(model);
        server.attach(loaded, tokenizer, TokenSampler.standard());
        System.err.printf("llama4j: ready (%s, %d slots of %d tokens)%n", id, parallel,
                Math.min(contextSize, loaded.config().contextLength()));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            loaded.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
