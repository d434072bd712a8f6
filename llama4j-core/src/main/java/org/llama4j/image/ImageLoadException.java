package org.llama4j.image;

/**
 * An image could not be used: unreadable or corrupt data, an unsupported format or pixel layout, or dimensions
 * beyond the configured limits. The message names the source and what was wrong.
 */
public class ImageLoadException extends IllegalArgumentException {
    public ImageLoadException(String message) {
        super(message);
    }

    public ImageLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
