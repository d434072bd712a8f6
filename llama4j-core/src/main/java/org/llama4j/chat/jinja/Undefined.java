package org.llama4j.chat.jinja;

/**
 * Jinja's default {@code Undefined}: prints as nothing, is false, iterates as empty and has length 0, but any
 * arithmetic, call, attribute or item access on it fails with {@link #reason()}.
 */
public record Undefined(String reason) {
    public static Undefined named(String name) {
        return new Undefined("'" + name + "' is undefined");
    }
}
