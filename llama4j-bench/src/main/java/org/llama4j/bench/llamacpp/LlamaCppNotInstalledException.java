package org.llama4j.bench.llamacpp;

/** llama.cpp's libraries were not found; the message names the folders searched and the script that installs them. */
public final class LlamaCppNotInstalledException extends LlamaCppException {
    public LlamaCppNotInstalledException(String message) {
        super(message);
    }
}
