package org.llama4j.chat.jinja;

/** Rendering exceeded a {@link TemplateLimits} bound (steps, output size, call depth, sequence size). */
public final class TemplateLimitException extends TemplateException {
    public TemplateLimitException(String detail, int line, int column) {
        super(detail, line, column);
    }
}
