package org.llama4j.generate;

/** Lets another thread stop a running generation; it ends after the current token with {@link FinishReason#CANCELLED}. */
public final class Cancellation {
    private volatile boolean cancelled;

    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }
}
