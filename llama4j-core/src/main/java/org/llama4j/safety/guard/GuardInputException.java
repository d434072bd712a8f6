package org.llama4j.safety.guard;

/** A conversation, category list or option the guard cannot use; the message says which and why. */
public class GuardInputException extends IllegalArgumentException {
    public GuardInputException(String message) {
        super(message);
    }
}
