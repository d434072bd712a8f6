package org.llama4j.safety.guard;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One message of the conversation to check. Content is a list of parts, as in llama-stack's interleaved content; a
 * plain string is a single {@link Text} part.
 */
public record GuardMessage(Role role, List<Part> content) {

    /** llama-stack's message roles. The guard prompt shows them capitalized: {@code User}, {@code Assistant}... */
    public enum Role {
        USER, ASSISTANT, SYSTEM, TOOL;

        /** The role as the guard prompt writes it (Python's {@code str.capitalize()} of the role name). */
        public String label() {
            String lower = name().toLowerCase(Locale.ROOT);
            return Character.toUpperCase(lower.charAt(0)) + lower.substring(1);
        }

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Role fromWireName(String name) {
            for (Role r : values()) {
                if (r.wireName().equals(name)) {
                    return r;
                }
            }
            throw new GuardInputException("unknown message role '" + name + "': expected user, assistant, system or"
                    + " tool");
        }
    }

    /** A piece of message content. */
    public sealed interface Part permits Text, Image {
        /** The part as guard-prompt text. */
        String promptText();
    }

    public record Text(String text) implements Part {
        public Text {
            Objects.requireNonNull(text, "text");
        }

        @Override
        public String promptText() {
            return text;
        }
    }

    /**
     * An image. On the text path (llama-stack for Llama Guard 3 text models and Llama Guard 4) it only shows up as the
     * literal {@code <image>}; the pixels are not sent to the model. {@code source} is kept for the caller's records.
     */
    public record Image(String source) implements Part {
        public static final String PLACEHOLDER = "<image>";

        @Override
        public String promptText() {
            return PLACEHOLDER;
        }
    }

    public GuardMessage {
        Objects.requireNonNull(role, "role");
        content = List.copyOf(content);
    }

    public static GuardMessage of(Role role, String text) {
        return new GuardMessage(role, List.of(new Text(text)));
    }

    public static GuardMessage user(String text) {
        return of(Role.USER, text);
    }

    public static GuardMessage assistant(String text) {
        return of(Role.ASSISTANT, text);
    }

    /** The same content under another role. */
    public GuardMessage withRole(Role newRole) {
        return new GuardMessage(newRole, content);
    }

    /**
     * The content as one string, as llama-stack's {@code interleaved_content_as_str}: parts joined with a single
     * space, images as {@code <image>}, nothing trimmed.
     */
    public String contentText() {
        return content.stream().map(Part::promptText).collect(Collectors.joining(" "));
    }
}
