package org.llama4j.server;

/**
 * A request that fails with an HTTP status and an OpenAI-shaped error body
 * {@code {"error": {"message", "type", "param", "code"}}}. Thrown anywhere while handling a request; the server
 * turns it into the response, so a bad request never reaches the scheduler.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    public static ApiException invalidRequest(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null);
    }

    public static ApiException invalidRequest(String message, String param, String code) {
        return new ApiException(400, "invalid_request_error", message, param, code);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
