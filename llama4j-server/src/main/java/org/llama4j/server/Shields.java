package org.llama4j.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.Llama4ChatFormat;
import org.llama4j.chat.ToolCall;
import org.llama4j.safety.guard.GuardMessage;
import org.llama4j.safety.guard.GuardResult;
import org.llama4j.safety.promptguard.PromptGuardResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the configured safety checks for requests. Checks run on their own small thread pool, never on the
 * scheduler thread, each bounded by the configured timeout; a check that throws or times out blocks its own
 * request (fail closed) and nothing else. Every block is counted in the metrics by shield, stage and category.
 */
final class Shields implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Shields.class);

    private final ShieldConfig config;
    private final ServerMetrics metrics;
    private final ExecutorService pool;

    Shields(ShieldConfig config, ServerMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        AtomicInteger n = new AtomicInteger();
        this.pool = config.any() ? Executors.newFixedThreadPool(config.checkThreads(), r -> Thread.ofPlatform()
                .daemon(true).name("llama4j-shield-" + n.incrementAndGet()).unstarted(r)) : null;
    }

    boolean guardsOutput() {
        return config.guardOutput();
    }

    /** Whether requests are checked before generation (the checks read text only). */
    boolean checksInput() {
        return config.any();
    }

    boolean hasGuard() {
        return config.guard() != null;
    }

    /**
     * Checks a conversation before generation: Prompt Guard on every user and tool message, then Llama Guard on the
     * conversation. System messages are the operator's instructions and are not judged.
     */
    Optional<ShieldBlock> checkInput(List<ChatMessage> messages) {
        if (config.promptGuard() != null) {
            List<String> scanned = new ArrayList<>();
            for (ChatMessage m : messages) {
                if (m.role().equals("user") || m.role().equals("tool")) {
                    scanned.add(text(m));
                }
            }
            Optional<ShieldBlock> block = promptGuard(scanned);
            if (block.isPresent()) {
                return count(block);
            }
        }
        if (config.guard() != null) {
            return count(llamaGuard(guardConversation(messages), ShieldBlock.INPUT));
        }
        return Optional.empty();
    }

    /** Checks a generated answer in the context of the conversation that asked for it. */
    Optional<ShieldBlock> checkOutput(List<ChatMessage> messages, String answer) {
        if (!config.guardOutput()) {
            return Optional.empty();
        }
        List<GuardMessage> conversation = new ArrayList<>(guardConversation(messages));
        conversation.add(GuardMessage.assistant(answer));
        return count(llamaGuard(conversation, ShieldBlock.OUTPUT));
    }

    /**
     * One Llama Guard check of a single user text (for /v1/moderations); a failed or timed-out check comes back as
     * an error verdict, which the caller reports as flagged.
     */
    Optional<GuardResult> moderate(String text) {
        try {
            return Optional.of(call(() -> config.guard().check(List.of(GuardMessage.user(text)),
                    config.guardOptions())));
        } catch (ShieldFailure e) {
            metrics.shieldBlock(ShieldBlock.LLAMA_GUARD, "moderation", e.reason);
            return Optional.empty();
        }
    }

    private Optional<ShieldBlock> promptGuard(List<String> texts) {
        for (String t : texts) {
            PromptGuardResult r;
            try {
                r = call(() -> config.promptGuard().scan(t));
            } catch (ShieldFailure e) {
                return Optional.of(ShieldBlock.failed(ShieldBlock.PROMPT_GUARD, ShieldBlock.INPUT));
            }
            if (r.malicious()) {
                return Optional.of(new ShieldBlock(ShieldBlock.PROMPT_GUARD, ShieldBlock.INPUT, "malicious",
                        List.of(r.label()), r.maliciousProbability()));
            }
        }
        return Optional.empty();
    }

    private Optional<ShieldBlock> llamaGuard(List<GuardMessage> conversation, String stage) {
        GuardResult r;
        try {
            r = call(() -> config.guard().check(conversation, config.guardOptions()));
        } catch (ShieldFailure e) {
            return Optional.of(ShieldBlock.failed(ShieldBlock.LLAMA_GUARD, stage));
        }
        if (!r.block()) {
            return Optional.empty();
        }
        Double score = r.verdict().pUnsafe().isPresent() ? r.verdict().pUnsafe().getAsDouble() : null;
        return Optional.of(new ShieldBlock(ShieldBlock.LLAMA_GUARD, stage, r.verdict().verdict().wireName(),
                r.verdict().categories(), score));
    }

    private Optional<ShieldBlock> count(Optional<ShieldBlock> block) {
        block.ifPresent(b -> {
            if (b.categories().isEmpty()) {
                metrics.shieldBlock(b.shield(), b.stage(), b.verdict());
            } else {
                b.categories().forEach(c -> metrics.shieldBlock(b.shield(), b.stage(), c));
            }
        });
        return block;
    }

    /** Runs a check on the pool within the timeout. */
    private <T> T call(Callable<T> check) {
        Future<T> future;
        try {
            future = pool.submit(check);
        } catch (RuntimeException e) {
            throw new ShieldFailure(ShieldBlock.ERROR);
        }
        try {
            return future.get(config.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            LOG.warn("a safety check took longer than {}: blocking the request", config.timeout());
            throw new ShieldFailure("timeout");
        } catch (ExecutionException e) {
            LOG.warn("a safety check failed: blocking the request", e.getCause());
            throw new ShieldFailure(ShieldBlock.ERROR);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            throw new ShieldFailure(ShieldBlock.ERROR);
        }
    }

    /** The conversation as Llama Guard sees it: no system messages; tool calls written out as text. */
    private static List<GuardMessage> guardConversation(List<ChatMessage> messages) {
        List<GuardMessage> out = new ArrayList<>();
        for (ChatMessage m : messages) {
            GuardMessage.Role role = switch (m.role()) {
                case "user" -> GuardMessage.Role.USER;
                case "assistant" -> GuardMessage.Role.ASSISTANT;
                case "tool", "ipython" -> GuardMessage.Role.TOOL;
                default -> null;
            };
            if (role != null) {
                out.add(GuardMessage.of(role, text(m)));
            }
        }
        if (out.isEmpty()) {
            // Only system messages: judge them rather than nothing (the guard needs a conversation).
            messages.forEach(m -> out.add(GuardMessage.user(text(m))));
        }
        return out;
    }

    private static String text(ChatMessage m) {
        StringBuilder s = new StringBuilder(m.content().isTextual() ? m.content().textValue()
                : m.content().isNull() ? "" : m.content().toString());
        for (ToolCall call : m.toolCalls()) {
            if (!s.isEmpty()) {
                s.append('\n');
            }
            s.append(Llama4ChatFormat.encodeToolCall(call, Llama4ChatFormat.ToolPromptFormat.JSON));
        }
        return s.toString();
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    /** A check that produced no result; {@code reason} is the metrics category: error or timeout. */
    private static final class ShieldFailure extends RuntimeException {
        final String reason;

        ShieldFailure(String reason) {
            super(reason, null, false, false);
            this.reason = reason;
        }
    }
}
