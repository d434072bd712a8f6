package org.llama4j.chat.jinja;

/**
 * The template itself refused the input by calling {@code raise_exception(message)}, the way Hugging Face
 * templates report an unsupported conversation. {@link #getMessage()} is exactly the template's message.
 */
public final class TemplateRaisedException extends TemplateException {
    public TemplateRaisedException(String message, int line, int column) {
        super(message, 0, 0);
        this.raisedAtLine = line;
        this.raisedAtColumn = column;
    }

    private final int raisedAtLine;
    private final int raisedAtColumn;

    @Override
    public int line() {
        return raisedAtLine;
    }

    @Override
    public int column() {
        return raisedAtColumn;
    }
}
