package org.llama4j.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and gauges for {@code GET /metrics}, in the Prometheus text exposition format. Written by request
 * threads and the scheduler thread, read by scrapes; every value is an atomic, no lock is held.
 */
public final class ServerMetrics {
    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder completionTokens = new LongAdder();
    private final LongAdder prefillTokens = new LongAdder();
    private final LongAdder prefillNanos = new LongAdder();
    private final LongAdder decodeTokens = new LongAdder();
    private final LongAdder decodeNanos = new LongAdder();
    private final LongAdder decodeSteps = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final AtomicLong queueDepth = new AtomicLong();
    private final AtomicLong activeSlots = new AtomicLong();
    private final AtomicLong kvBytes = new AtomicLong();
    private final AtomicLong kvPositions = new AtomicLong();
    private volatile long slots;
    private volatile long contextSize;

    /** Counts a finished HTTP request by route and status code. */
    public void request(String route, int status) {
        requests.computeIfAbsent(route + "\u0000" + status, k -> new LongAdder()).increment();
    }

    void tokens(int prompt, int completion) {
        promptTokens.add(prompt);
        completionTokens.add(completion);
    }

    void prefilled(int tokens, long nanos) {
        prefillTokens.add(tokens);
        prefillNanos.add(nanos);
    }

    void decoded(int tokens, long nanos) {
        decodeTokens.add(tokens);
        decodeNanos.add(nanos);
        decodeSteps.increment();
    }

    void cancelled() {
        cancelled.increment();
    }

    void setQueueDepth(long n) {
        queueDepth.set(n);
    }

    void setSlots(int n, int context) {
        slots = n;
        contextSize = context;
    }

    void setActive(int active, long bytes, long positions) {
        activeSlots.set(active);
        kvBytes.set(bytes);
        kvPositions.set(positions);
    }

    public long activeSlots() {
        return activeSlots.get();
    }

    public long queueDepth() {
        return queueDepth.get();
    }

    /** The exposition text. */
    public String render() {
        StringBuilder out = new StringBuilder(2048);
        out.append("# HELP llama4j_requests_total HTTP requests by route and status code.\n");
        out.append("# TYPE llama4j_requests_total counter\n");
        Map<String, LongAdder> sorted = new TreeMap<>(requests);
        sorted.forEach((key, count) -> {
            String[] parts = key.split("\u0000", 2);
            out.append("llama4j_requests_total{route=\"").append(escape(parts[0])).append("\",status=\"")
                    .append(parts[1]).append("\"} ").append(count.sum()).append('\n');
        });
        counter(out, "llama4j_prompt_tokens_total", "Prompt tokens of finished requests.", promptTokens.sum());
        counter(out, "llama4j_completion_tokens_total", "Generated tokens of finished requests.",
                completionTokens.sum());
        counter(out, "llama4j_prefill_tokens_total", "Prompt tokens run through the model.", prefillTokens.sum());
        counter(out, "llama4j_prefill_seconds_total", "Time spent in prefill.", prefillNanos.sum() / 1e9);
        counter(out, "llama4j_decode_tokens_total", "Tokens decoded (one per running sequence per step).",
                decodeTokens.sum());
        counter(out, "llama4j_decode_seconds_total", "Time spent in batched decode steps.", decodeNanos.sum() / 1e9);
        counter(out, "llama4j_decode_steps_total", "Batched decode steps.", decodeSteps.sum());
        counter(out, "llama4j_cancelled_total", "Requests cancelled by a client disconnect.", cancelled.sum());
        gauge(out, "llama4j_prefill_tokens_per_second", "Prefill throughput since start.",
                rate(prefillTokens.sum(), prefillNanos.sum()));
        gauge(out, "llama4j_decode_tokens_per_second", "Decode throughput (all sequences) since start.",
                rate(decodeTokens.sum(), decodeNanos.sum()));
        gauge(out, "llama4j_queue_depth", "Requests waiting for a slot.", queueDepth.get());
        gauge(out, "llama4j_active_slots", "Slots running a request.", activeSlots.get());
        gauge(out, "llama4j_slots", "Slots (--parallel).", slots);
        gauge(out, "llama4j_kv_cache_bytes", "Bytes allocated for keys and values over all slots.", kvBytes.get());
        gauge(out, "llama4j_kv_cache_tokens", "Positions held in the KV caches of all slots.", kvPositions.get());
        long capacity = slots * contextSize;
        gauge(out, "llama4j_kv_cache_usage_ratio", "Positions held / positions all slots can hold.",
                capacity == 0 ? 0 : (double) kvPositions.get() / capacity);
        return out.toString();
    }

    private static double rate(long tokens, long nanos) {
        return nanos == 0 ? 0 : tokens / (nanos / 1e9);
    }

    private static void counter(StringBuilder out, String name, String help, double value) {
        metric(out, name, help, "counter", value);
    }

    private static void gauge(StringBuilder out, String name, String help, double value) {
        metric(out, name, help, "gauge", value);
    }

    private static void metric(StringBuilder out, String name, String help, String type, double value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        out.append(name).append(' ');
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            out.append((long) value);
        } else {
            out.append(value);
        }
        out.append('\n');
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
