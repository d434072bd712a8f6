package org.llama4j.bench.llamacpp;

/** A llama.cpp call failed, or its libraries are missing; the message says which call and, if any, what it logged. */
public class LlamaCppException extends RuntimeException {
    public LlamaCppException(String message) {
        super(message);
    }

    public LlamaCppException(String message, Throwable cause) {
        super(message, cause);
    }
}
