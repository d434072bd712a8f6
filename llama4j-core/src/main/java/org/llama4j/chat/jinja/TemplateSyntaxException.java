package org.llama4j.chat.jinja;

/** The template source is not valid Jinja (or uses a construct this interpreter does not support). */
public final class TemplateSyntaxException extends TemplateException {
    public TemplateSyntaxException(String detail, int line, int column) {
        super(detail, line, column);
    }
}
