package org.llama4j.cli;

/**
 * How many threads llama4j's kernels use. On this branch the kernels are single-threaded; the persistent kernel
 * thread pool (kernels branch) reads {@code -Dllama4j.threads} when it starts, so the requested count is set there
 * already and takes effect once that pool exists.
 */
final class KernelThreads {
    /** What the reported llama4j thread count means; empty once the kernels honour the request. */
    static final String NOTE = "llama4j kernels are single-threaded on this build";

    private KernelThreads() {
    }

    /** Requests {@code threads} kernel threads; returns how many llama4j will actually use. */
    static int configure(int threads) {
        System.setProperty("llama4j.threads", Integer.toString(threads));
        return 1;
    }
}
