package org.llama4j.server;

/**
 * How the server listens and how much work it takes on.
 *
 * @param host          interface to bind (127.0.0.1 keeps the server local)
 * @param port          TCP port; 0 picks a free one (tests)
 * @param parallel      sequences decoded together: the number of KV cache slots
 * @param contextSize   tokens one slot holds (prompt plus completion); at most the model's context length
 * @param apiKey        when non-null, every /v1 request needs {@code Authorization: Bearer <apiKey>}
 * @param queueCapacity requests that may wait for a free slot; one more is refused with 429
 * @param maxBodyBytes  larger request bodies are refused with 413
 * @param modelId       the name /v1/models reports and responses echo
 */
public record ServerOptions(String host, int port, int parallel, int contextSize, String apiKey, int queueCapacity,
                            long maxBodyBytes, String modelId) {
    public static final long DEFAULT_MAX_BODY_BYTES = 8L << 20;

    public ServerOptions {
        if (parallel < 1) {
            throw new IllegalArgumentException("--parallel must be at least 1, got " + parallel);
        }
        if (contextSize < 2) {
            throw new IllegalArgumentException("--ctx-size must be at least 2, got " + contextSize);
        }
        if (queueCapacity < 0) {
            throw new IllegalArgumentException("--queue must be >= 0, got " + queueCapacity);
        }
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("the body limit must be at least 1024 bytes, got " + maxBodyBytes);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new IllegalArgumentException("--api-key must not be blank");
        }
    }

    public static ServerOptions defaults(String modelId) {
        return new ServerOptions("127.0.0.1", 8080, 4, 4096, null, 64, DEFAULT_MAX_BODY_BYTES, modelId);
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(host, p, parallel, contextSize, apiKey, queueCapacity, maxBodyBytes, modelId);
    }

    public ServerOptions withParallel(int n) {
        return new ServerOptions(host, port, n, contextSize, apiKey, queueCapacity, maxBodyBytes, modelId);
    }

    public ServerOptions withContextSize(int n) {
        return new ServerOptions(host, port, parallel, n, apiKey, queueCapacity, maxBodyBytes, modelId);
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, parallel, contextSize, key, queueCapacity, maxBodyBytes, modelId);
    }

    public ServerOptions withQueueCapacity(int n) {
        return new ServerOptions(host, port, parallel, contextSize, apiKey, n, maxBodyBytes, modelId);
    }

    public ServerOptions withMaxBodyBytes(long n) {
        return new ServerOptions(host, port, parallel, contextSize, apiKey, queueCapacity, n, modelId);
    }
}
