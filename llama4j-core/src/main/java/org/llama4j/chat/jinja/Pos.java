package org.llama4j.chat.jinja;

/** A 1-based line and column in the template source. */
record Pos(int line, int column) {
    TemplateRuntimeException error(String message) {
        return new TemplateRuntimeException(message, line, column);
    }

    TemplateSyntaxException syntax(String message) {
        return new TemplateSyntaxException(message, line, column);
    }
}
