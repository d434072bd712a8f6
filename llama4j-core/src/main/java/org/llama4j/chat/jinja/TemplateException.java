package org.llama4j.chat.jinja;

/**
 * Any failure while parsing or rendering a template. Carries the 1-based line and column of the template
 * construct that failed (0 when unknown) so that an author can find the mistake.
 */
public abstract sealed class TemplateException extends RuntimeException
        permits TemplateSyntaxException, TemplateRuntimeException, TemplateRaisedException, TemplateLimitException {
    private final int line;
    private final int column;
    private final String detail;

    protected TemplateException(String detail, int line, int column) {
        super(line > 0 ? "line " + line + ", column " + column + ": " + detail : detail);
        this.detail = detail;
        this.line = line;
        this.column = column;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }

    /** The message without the position prefix. */
    public String detail() {
        return detail;
    }
}
