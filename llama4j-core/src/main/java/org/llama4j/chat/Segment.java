package org.llama4j.chat;

/**
 * A run of rendered prompt text with where it came from. {@link Provenance#TEMPLATE} text is the template's own
 * (special-token strings in it are control tokens); {@link Provenance#CONTENT} text came from the conversation or
 * tools and must be encoded as plain text, so a user typing {@code <|eot|>} cannot end a turn.
 */
public record Segment(Provenance provenance, String text) {
    public enum Provenance { TEMPLATE, CONTENT }

    public Segment {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("empty segment");
        }
    }
}
