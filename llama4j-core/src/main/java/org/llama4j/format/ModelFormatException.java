package org.llama4j.format;

/**
 * A model file (GGUF, safetensors, config.json, tokenizer file, ...) is malformed, truncated or uses
 * something llama4j does not support. The message always says which file, where, and what was expected
 * versus what was found, so a user can tell a corrupt download from an unsupported format.
 */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
