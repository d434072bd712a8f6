package org.llama4j.chat.jinja;

/** Rendering failed: an undefined value was used, a type error, a bad filter argument, ... */
public final class TemplateRuntimeException extends TemplateException {
    public TemplateRuntimeException(String detail, int line, int column) {
        super(detail, line, column);
    }
}
