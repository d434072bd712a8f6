package org.llama4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** A server on 127.0.0.1 with a free port, plus a plain HTTP client with bounded timeouts. */
final class ServerHarness implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final OpenAiServer server;
    final TinyServerModel tiny;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ServerHarness(Path folder, ServerOptions options, TokenSampler.Factory samplers) throws IOException {
        this.tiny = TinyServerModel.create(folder, 2048);
        this.server = OpenAiServer.start(options.withPort(0));
        server.attach(tiny.model, tiny.tokenizer, samplers);
    }

    static ServerOptions options() {
        return ServerOptions.defaults("tiny-llama4").withParallel(4).withContextSize(512).withQueueCapacity(16);
    }

    String base() {
        return "http://127.0.0.1:" + server.port();
    }

    HttpResponse<String> post(String path, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(30)).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(String body) throws IOException {
        return JSON.readTree(body);
    }

    @Override
    public void close() {
        server.close();
    }
}
