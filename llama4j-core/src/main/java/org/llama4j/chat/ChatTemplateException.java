package org.llama4j.chat;

/**
 * The chat template refused the conversation via {@code raise_exception(...)}: {@link #getMessage()} is the
 * template's own message (e.g. "Cannot put tools in the first user message when there's no first user message!").
 */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
