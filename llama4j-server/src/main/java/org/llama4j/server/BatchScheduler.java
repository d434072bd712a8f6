package org.llama4j.server;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.llama4j.generate.StopStrings;
import org.llama4j.model.ForwardListener;
import org.llama4j.model.KvCache;
import org.llama4j.model.Llama4Model;
import org.llama4j.server.GenerationEvent.TokenLogprob;
import org.llama4j.tokenizer.StreamingDecoder;
import org.llama4j.tokenizer.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching: one thread owns the model and runs a loop of steps. Each step
 * <ol>
 *   <li>drops cancelled sequences and admits waiting requests into free slots (each slot is a KV cache),</li>
 *   <li>prefills one chunk of one newly admitted prompt (so a long prompt delays running sequences by one chunk
 *       per step, not by its whole length),</li>
 *   <li>decodes one token for every running sequence in a single batched forward pass
 *       ({@link Llama4Model#decodeBatch}), so the weights are read once per step for all of them.</li>
 * </ol>
 * Finished sequences leave at the end of the step that finished them. A failure while computing one sequence's
 * step fails the sequences of that step only; the loop goes on.
 */
public final class BatchScheduler implements AutoCloseable {
    /** Prompt tokens prefilled per step: bounds the pause a new prompt causes to running sequences. */
    static final int PREFILL_CHUNK = 256;
    private static final Logger LOG = LoggerFactory.getLogger(BatchScheduler.class);

    private final Llama4Model model;
    private final Tokenizer tokenizer;
    private final TokenSampler.Factory samplers;
    private final int contextSize;
    private final int capacity;
    private final KvCache[] slotCaches;
    private final Sequence[] slots;
    private final BlockingQueue<GenerationHandle> waiting = new LinkedBlockingQueue<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final ServerMetrics metrics;
    private final int[] stopTokens;
    private final Thread thread;
    private volatile boolean closed;

    public BatchScheduler(Llama4Model model, Tokenizer tokenizer, int parallel, int contextSize, int queueCapacity,
                          TokenSampler.Factory samplers, ServerMetrics metrics) {
        if (contextSize > model.config().contextLength()) {
            throw new IllegalArgumentException("context size " + contextSize + " exceeds the model's "
                    + model.config().contextLength());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.samplers = samplers;
        this.contextSize = contextSize;
        this.capacity = parallel + queueCapacity;
        this.metrics = metrics;
        this.stopTokens = tokenizer.stopTokenIds();
        this.slotCaches = new KvCache[parallel];
        for (int i = 0; i < parallel; i++) {
            slotCaches[i] = new KvCache(model.config(), contextSize);
        }
        this.slots = new Sequence[parallel];
        metrics.setSlots(parallel, contextSize);
        this.thread = Thread.ofPlatform().name("llama4j-scheduler").daemon(true).unstarted(this::loop);
        thread.start();
    }

    public int contextSize() {
        return contextSize;
    }

    /**
     * Queues a generation.
     *
     * @throws ApiException 429 when every slot is busy and the queue is full
     */
    public GenerationHandle submit(GenerationJob job) {
        if (closed) {
            throw new ApiException(503, "server_error", "the server is shutting down", null, "unavailable");
        }
        if (job.promptTokens().length >= contextSize) {
            throw new IllegalArgumentException("prompt does not fit the context");
        }
        while (true) {
            int now = accepted.get();
            if (now >= capacity) {
                throw new ApiException(429, "rate_limit_error", "the server is busy: all " + slots.length
                        + " slots are in use and the queue is full; retry later", null, "queue_full");
            }
            if (accepted.compareAndSet(now, now + 1)) {
                break;
            }
        }
        GenerationHandle handle = new GenerationHandle(job);
        waiting.add(handle);
        metrics.setQueueDepth(waiting.size());
        return handle;
    }

    private void loop() {
        while (!closed) {
            try {
                step();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                // Only reached on a bug in the loop itself; the sequences involved are failed, the server lives on.
                LOG.error("scheduler step failed", e);
                for (int i = 0; i < slots.length; i++) {
                    if (slots[i] != null) {
                        fail(i, "internal error: " + e);
                    }
                }
            }
        }
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null) {
                fail(i, "the server is shutting down");
            }
        }
        GenerationHandle h;
        while ((h = waiting.poll()) != null) {
            h.emit(new GenerationEvent.Failed("the server is shutting down"));
        }
    }

    private void step() throws InterruptedException {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null && slots[i].handle.cancelled()) {
                metrics.cancelled();
                release(i);
            }
        }
        admit(activeCount() == 0);
        prefillOneChunk();
        decodeRunning();
        updateGauges();
    }

    /** Moves waiting requests into free slots; when idle, blocks briefly for the next one. */
    private void admit(boolean idle) throws InterruptedException {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null) {
                continue;
            }
            GenerationHandle next = idle ? waiting.poll(100, TimeUnit.MILLISECONDS) : waiting.poll();
            idle = false;
            while (next != null && next.cancelled()) {
                metrics.cancelled();
                accepted.decrementAndGet();
                next = waiting.poll();
            }
            if (next == null) {
                break;
            }
            GenerationJob job = next.job();
            slots[i] = new Sequence(next, samplers.create(job.sampling(), job.promptTokens()),
                    tokenizer.streamingDecoder(), new StopStrings(job.stops()));
        }
        metrics.setQueueDepth(waiting.size());
    }

    private void prefillOneChunk() {
        for (int i = 0; i < slots.length; i++) {
            Sequence s = slots[i];
            if (s == null || !s.prefilling()) {
                continue;
            }
            int[] prompt = s.handle.job().promptTokens();
            int from = s.prefilled;
            int to = Math.min(prompt.length, from + PREFILL_CHUNK);
            long start = System.nanoTime();
            float[][] logits;
            try {
                int last = prompt.length - 1;
                logits = model.forward(Arrays.copyOfRange(prompt, from, to), from, slotCaches[i], p -> p == last,
                        ForwardListener.NONE);
            } catch (RuntimeException e) {
                LOG.warn("prefill failed", e);
                fail(i, "prefill failed: " + e.getMessage());
                return;
            }
            metrics.prefilled(to - from, System.nanoTime() - start);
            s.prefilled = to;
            if (to == prompt.length) {
                onLogits(i, logits[to - from - 1]);
            }
            return;
        }
    }

    private void decodeRunning() {
        List<Integer> running = new ArrayList<>();
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null && !slots[i].prefilling()) {
                running.add(i);
            }
        }
        if (running.isEmpty()) {
            return;
        }
        int n = running.size();
        int[] tokens = new int[n];
        KvCache[] caches = new KvCache[n];
        for (int j = 0; j < n; j++) {
            tokens[j] = slots[running.get(j)].nextInput;
            caches[j] = slotCaches[running.get(j)];
        }
        long start = System.nanoTime();
        float[][] logits;
        try {
            logits = model.decodeBatch(tokens, caches);
        } catch (RuntimeException e) {
            LOG.warn("batched decode failed", e);
            for (int slot : running) {
                fail(slot, "decode failed: " + e.getMessage());
            }
            return;
        }
        metrics.decoded(n, System.nanoTime() - start);
        for (int j = 0; j < n; j++) {
            onLogits(running.get(j), logits[j]);
        }
    }

    /** Chooses the next token of the sequence in {@code slot}, reports it, and decides whether it goes on. */
    private void onLogits(int slot, float[] logits) {
        Sequence s = slots[slot];
        GenerationJob job = s.handle.job();
        int token;
        TokenLogprob logprob = null;
        try {
            // Log-probabilities describe the model's own distribution, before penalties and temperature.
            float[] logSoftmax = job.wantsLogprobs() ? Logprobs.logSoftmax(logits) : null;
            token = s.sampler.sample(logits);
            if (logSoftmax != null) {
                logprob = Logprobs.describe(tokenizer, logSoftmax, token, job.topLogprobs());
            }
        } catch (RuntimeException e) {
            fail(slot, "sampling failed: " + e.getMessage());
            return;
        }
        s.sampler.accept(token);
        s.generated++;
        if (isStopToken(token)) {
            finish(slot, "stop");
            return;
        }
        String text = s.stops.push(s.decoder.accept(token));
        s.handle.emit(new GenerationEvent.Token(token, text, logprob));
        if (s.stops.stopped()) {
            finish(slot, "stop");
        } else if (s.generated >= job.maxTokens() || slotCaches[slot].position() >= contextSize) {
            finish(slot, "length");
        } else {
            s.nextInput = token;
        }
    }

    private boolean isStopToken(int token) {
        for (int t : stopTokens) {
            if (t == token) {
                return true;
            }
        }
        return false;
    }

    private void finish(int slot, String reason) {
        Sequence s = slots[slot];
        if (!s.stops.stopped()) {
            String tail = s.stops.push(s.decoder.flush());
            tail += s.stops.stopped() ? "" : s.stops.flush();
            if (!tail.isEmpty()) {
                s.handle.emit(new GenerationEvent.Token(-1, tail, null));
            }
        }
        int prompt = s.handle.job().promptTokens().length;
        s.handle.emit(new GenerationEvent.Finished(reason, prompt, s.generated));
        metrics.tokens(prompt, s.generated);
        release(slot);
    }

    private void fail(int slot, String message) {
        slots[slot].handle.emit(new GenerationEvent.Failed(message));
        release(slot);
    }

    private void release(int slot) {
        slots[slot] = null;
        slotCaches[slot].clear();
        accepted.decrementAndGet();
    }

    private int activeCount() {
        int n = 0;
        for (Sequence s : slots) {
            if (s != null) {
                n++;
            }
        }
        return n;
    }

    private void updateGauges() {
        long bytes = 0;
        long positions = 0;
        for (KvCache c : slotCaches) {
            bytes += c.allocatedBytes();
            positions += c.position();
        }
        metrics.setActive(activeCount(), bytes, positions);
    }

    /** Stops the loop; running and waiting requests end with a failure event. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A request occupying a slot. */
    private static final class Sequence {
        final GenerationHandle handle;
        final TokenSampler sampler;
        final StreamingDecoder decoder;
        final StopStrings stops;
        int prefilled;
        int generated;
        int nextInput = -1;

        Sequence(GenerationHandle handle, TokenSampler sampler, StreamingDecoder decoder, StopStrings stops) {
            this.handle = handle;
            this.sampler = sampler;
            this.decoder = decoder;
            this.stops = stops;
        }

        boolean prefilling() {
            return prefilled < handle.job().promptTokens().length;
        }
    }

}
