package org.llama4j.cli;

import org.llama4j.kernel.ParallelRunner;

/**
 * How many threads llama4j's kernels use: the process-wide {@link ParallelRunner#shared()} pool, sized from
 * {@code -Dllama4j.threads} when it starts. A command sets that property before any kernel runs; once the pool
 * exists (earlier work in the same JVM) its size is fixed, and the caller reports the size actually used.
 */
final class KernelThreads {
    private KernelThreads() {
    }

    /** Requests {@code threads} kernel threads; returns how many llama4j's kernels will actually use. */
    static int configure(int threads) {
        System.setProperty("llama4j.threads", Integer.toString(threads));
        return ParallelRunner.shared().threads();
    }
}
