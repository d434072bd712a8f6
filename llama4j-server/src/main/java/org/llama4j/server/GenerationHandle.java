package org.llama4j.server;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The request side of one generation: the HTTP handler reads its events, and cancels it when the client goes
 * away. The scheduler frees the slot at its next step boundary after {@link #cancel()}.
 */
public final class GenerationHandle {
    private final GenerationJob job;
    private final BlockingQueue<GenerationEvent> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    GenerationHandle(GenerationJob job) {
        this.job = job;
    }

    public GenerationJob job() {
        return job;
    }

    /** The next event, or null when none arrived within the timeout. */
    public GenerationEvent poll(long timeout, TimeUnit unit) throws InterruptedException {
        return events.poll(timeout, unit);
    }

    public void cancel() {
        cancelled = true;
    }

    public boolean cancelled() {
        return cancelled;
    }

    void emit(GenerationEvent event) {
        events.add(event);
    }
}
