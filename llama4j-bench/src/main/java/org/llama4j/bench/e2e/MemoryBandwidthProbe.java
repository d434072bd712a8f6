package org.llama4j.bench.e2e;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Memory read bandwidth as a plain Java loop sees it: sums a {@code long[]} much larger than the last-level cache,
 * with 1 or N threads each summing its own contiguous slice. This is the ceiling of a memory-bound decode step
 * (every weight byte read once per token), so {@code decode tokens/s × bytes per token / bandwidth} says how close
 * an engine comes to it. Best of a few passes: other processes only ever make a pass slower.
 */
public final class MemoryBandwidthProbe {
    /** Keeps the sums alive so the JIT cannot drop the loads. */
    private static final AtomicLong SINK = new AtomicLong();

    private final long[] buffer;

    /** Allocates and touches {@code bytes} (rounded down to 8); must be far larger than the caches to mean anything. */
    public MemoryBandwidthProbe(long bytes) {
        if (bytes < 8 * 1024 || bytes / 8 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("bandwidth buffer of " + bytes + " bytes: use 8 KiB .. 16 GiB");
        }
        buffer = new long[(int) (bytes / 8)];
        for (int i = 0; i < buffer.length; i++) {
            buffer[i] = i; // first touch: page faults now, not in the timed passes
        }
    }

    public long bytes() {
        return buffer.length * 8L;
    }

    /** Bytes per second reading the whole buffer with {@code threads} threads, best of {@code passes}. */
    public double readBytesPerSecond(int threads, int passes) {
        if (threads < 1 || passes < 1) {
            throw new IllegalArgumentException("threads and passes must be at least 1");
        }
        sumSlice(0, Math.min(buffer.length, 1 << 20)); // get sumSlice compiled before timing
        long best = Long.MAX_VALUE;
        for (int p = 0; p < passes; p++) {
            best = Math.min(best, threads == 1 ? timeOneThread() : timeThreads(threads));
        }
        return bytes() * 1e9 / best;
    }

    private long timeOneThread() {
        long t0 = System.nanoTime();
        SINK.addAndGet(sumSlice(0, buffer.length));
        return System.nanoTime() - t0;
    }

    private long timeThreads(int threads) {
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        CyclicBarrier end = new CyclicBarrier(threads + 1);
        Thread[] workers = new Thread[threads];
        int slice = (buffer.length + threads - 1) / threads;
        for (int i = 0; i < threads; i++) {
            int from = Math.min(buffer.length, i * slice);
            int to = Math.min(buffer.length, from + slice);
            workers[i] = Thread.ofPlatform().daemon().name("bandwidth-probe-" + i).start(() -> {
                try {
                    start.await();
                    SINK.addAndGet(sumSlice(from, to));
                    end.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        try {
            start.await();
            long t0 = System.nanoTime();
            end.await();
            long elapsed = System.nanoTime() - t0;
            for (Thread w : workers) {
                w.join();
            }
            return elapsed;
        } catch (Exception e) {
            throw new IllegalStateException("bandwidth probe interrupted", e);
        }
    }

    /** Four independent accumulators so the loop is bound by loads, not by one add chain (C2 vectorizes it). */
    private long sumSlice(int from, int to) {
        long a = 0;
        long b = 0;
        long c = 0;
        long d = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            a += buffer[i];
            b += buffer[i + 1];
            c += buffer[i + 2];
            d += buffer[i + 3];
        }
        for (; i < to; i++) {
            a += buffer[i];
        }
        return a + b + c + d;
    }
}
