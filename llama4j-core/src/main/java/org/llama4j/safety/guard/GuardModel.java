package org.llama4j.safety.guard;

/**
 * The model a {@link LlamaGuard} runs: anything that can start a fresh decoding session. An inference engine's
 * session (prefill, then one token at a time) fits directly; tests use a deterministic fake.
 */
@FunctionalInterface
public interface GuardModel {
    /**
     * A new, empty session; each guard check uses its own and closes it.
     *
     * @param tokenCapacity how many tokens the session will hold at most (prompt plus answer), so an engine can size
     *                      its cache to the check rather than to the model's full context
     */
    Session newSession(int tokenCapacity);

    /** One sequence being decoded. Not thread-safe. */
    interface Session extends AutoCloseable {
        /** Feeds the prompt (prefill) and returns the next-token logits after its last token. */
        float[] ingest(int[] tokenIds);

        /** Feeds one generated token and returns the logits for the one after it. */
        float[] decode(int tokenId);

        @Override
        void close();
    }
}
