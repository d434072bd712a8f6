package org.llama4j.server;

import java.time.Duration;
import java.util.Objects;
import org.llama4j.safety.guard.GuardOptions;
import org.llama4j.safety.guard.LlamaGuard;
import org.llama4j.safety.promptguard.PromptGuard;

/**
 * Which safety checks guard the server's requests.
 *
 * @param guard        Llama Guard, run on its own model instance (not the served model); null for none. When set,
 *                     every chat and completion request's input is checked before generation
 * @param guardOptions the categories Llama Guard checks for and excludes
 * @param guardOutput  also check each generated answer (needs {@code guard}); a streamed answer is then withheld
 *                     until it has been checked
 * @param promptGuard  Prompt Guard, scanning user and tool messages for injections before generation; null for none
 * @param timeout      longest one check may take, queueing included; a check that takes longer blocks the request
 * @param checkThreads checks that run at once (each occupies a CPU-heavy forward pass); more wait in a queue
 */
public record ShieldConfig(LlamaGuard guard, GuardOptions guardOptions, boolean guardOutput, PromptGuard promptGuard,
                           Duration timeout, int checkThreads) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    public static final ShieldConfig NONE = new ShieldConfig(null, GuardOptions.defaults(), false, null,
            DEFAULT_TIMEOUT, 1);

    public ShieldConfig {
        Objects.requireNonNull(guardOptions, "guardOptions");
        Objects.requireNonNull(timeout, "timeout");
        if (guardOutput && guard == null) {
            throw new IllegalArgumentException("--guard-output needs --guard-model");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the shield timeout must be positive, got " + timeout);
        }
        if (checkThreads < 1) {
            throw new IllegalArgumentException("checkThreads must be at least 1, got " + checkThreads);
        }
    }

    public boolean any() {
        return guard != null || promptGuard != null;
    }
}
