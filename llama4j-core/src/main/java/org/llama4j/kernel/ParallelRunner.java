package org.llama4j.kernel;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed pool of worker threads for parallel loops over index ranges, created once and reused by every kernel
 * call (no thread creation or task objects per operation). The calling thread works too, so a runner of
 * {@code n} threads starts {@code n - 1} workers.
 *
 * <p>A loop is cut into chunks that threads claim from a shared counter, so uneven chunks balance themselves.
 * Idle workers spin briefly for the next loop (kernels come in quick succession during a forward pass), then
 * park. Only one loop runs at a time: a loop started while another runs (from a worker, or concurrently from
 * another thread) runs on its calling thread alone, so nesting never deadlocks.
 */
public final class ParallelRunner implements AutoCloseable {
    /** The body of a parallel loop: handles indices {@code start..end-1}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /**
     * How long idle workers spin before parking: a forward pass issues its kernels a few to a few hundred microseconds
     * apart (the serial work between them: norms, RoPE, attention of short contexts), and waking a parked thread
     * costs tens of microseconds each time, so workers wait out such gaps awake. Beyond it they park, so an idle
     * engine uses no CPU.
     */
    private static final long SPIN_BEFORE_PARK_NANOS = 1_000_000;
    /** How long the caller spins for the last chunks of its loop before parking (chunks finish close together). */
    private static final long CALLER_SPIN_NANOS = 50_000;
    private static volatile ParallelRunner shared;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock loopLock = new ReentrantLock();
    private volatile Loop current;
    private volatile boolean closed;

    /** One parallel loop: its chunks, the next unclaimed chunk and how many are finished. */
    private static final class Loop {
        final RangeBody body;
        final int n;
        final int chunkSize;
        final int chunks;
        final AtomicInteger nextChunk = new AtomicInteger();
        final AtomicInteger doneChunks = new AtomicInteger();
        final Thread caller;
        volatile Throwable failure;

        Loop(RangeBody body, int n, int chunkSize, Thread caller) {
            this.body = body;
            this.n = n;
            this.chunkSize = chunkSize;
            this.chunks = (n + chunkSize - 1) / chunkSize;
            this.caller = caller;
        }

        /** Claims and runs chunks until none is left. */
        void work() {
            int c;
            while ((c = nextChunk.getAndIncrement()) < chunks) {
                int start = c * chunkSize;
                try {
                    body.run(start, Math.min(n, start + chunkSize));
                } catch (Throwable t) {
                    failure = t;
                }
                if (doneChunks.incrementAndGet() == chunks) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    /** A runner of {@code threads} threads (the caller included), at least 1. */
    public ParallelRunner(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count " + threads + " < 1");
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().daemon().name("llama4j-kernel-" + (i + 1)).unstarted(this::workerLoop);
            workers[i].start();
        }
    }

    /**
     * The process-wide runner the kernels use by default: {@code -Dllama4j.threads=N} threads, or one per
     * available processor.
     */
    public static ParallelRunner shared() {
        ParallelRunner r = shared;
        if (r == null) {
            synchronized (ParallelRunner.class) {
                r = shared;
                if (r == null) {
                    int n = Integer.getInteger("llama4j.threads", Runtime.getRuntime().availableProcessors());
                    shared = r = new ParallelRunner(Math.max(1, n));
                }
            }
        }
        return r;
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code 0..n-1} in chunks of at least {@code minChunk} indices (about four chunks per
     * thread, for balance) and returns when all are done. An exception of any chunk is rethrown here after the
     * loop has finished.
     */
    public void parallelFor(int n, int minChunk, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunk = Math.max(Math.max(1, minChunk), (n + 4 * threads - 1) / (4 * threads));
        // The lock is reentrant: a loop nested in this thread's own loop must be caught before tryLock would succeed.
        if (workers.length == 0 || chunk >= n || closed || loopLock.isHeldByCurrentThread() || !loopLock.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            Loop loop = new Loop(body, n, chunk, Thread.currentThread());
            current = loop;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            loop.work();
            long spinStart = System.nanoTime();
            while (loop.doneChunks.get() < loop.chunks) {
                if (System.nanoTime() - spinStart < CALLER_SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, TimeUnit.MICROSECONDS.toNanos(50));
                }
            }
            current = null;
            Throwable failure = loop.failure;
            if (failure instanceof RuntimeException e) {
                throw e;
            } else if (failure instanceof Error e) {
                throw e;
            } else if (failure != null) {
                throw new RuntimeException(failure);
            }
        } finally {
            loopLock.unlock();
        }
    }

    private void workerLoop() {
        Loop last = null;
        long idleSince = System.nanoTime();
        while (!closed) {
            Loop loop = current;
            if (loop != null && loop != last) {
                last = loop;
                loop.work();
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince < SPIN_BEFORE_PARK_NANOS) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
    }

    /** Stops the workers (the shared runner is never closed). Loops started afterwards run on the caller. */
    @Override
    public void close() {
        if (this == shared) {
            return;
        }
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
