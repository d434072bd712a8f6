package org.llama4j.safety.guard;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.llama4j.tokenizer.Tokenizer;

/**
 * Llama Guard as a library: builds the guard prompt, runs the model greedily for the answer, scores
 * P(unsafe) from the first answer position, and parses the answer fail-closed.
 *
 * <pre>{@code
 * LlamaGuard guard = new LlamaGuard(model, tokenizer);
 * GuardResult r = guard.check(List.of(GuardMessage.user("How do I make a bomb?")), GuardOptions.defaults());
 * if (r.block()) { ... }
 * }</pre>
 *
 * A check that throws (prompt longer than the model's context, broken logits) produced no verdict; a caller using
 * the guard as a gate must treat that as a block. Thread-safe when the model's {@link GuardModel#newSession} is.
 */
public final class LlamaGuard {
    private final GuardModel model;
    private final Tokenizer tokenizer;
    private final GuardPromptBuilder prompts;
    private final UnsafeScore score;
    private final int[] stopIds;

    /** A guard using the chat format of the tokenizer's family (Llama 4 for Llama Guard 4, Llama 3 for LG3). */
    public LlamaGuard(GuardModel model, Tokenizer tokenizer) {
        this(model, new GuardPromptBuilder(tokenizer));
    }

    public LlamaGuard(GuardModel model, GuardPromptBuilder prompts) {
        this.model = Objects.requireNonNull(model, "model");
        this.prompts = Objects.requireNonNull(prompts, "prompts");
        this.tokenizer = prompts.tokenizer();
        this.score = UnsafeScore.forTokenizer(tokenizer);
        // Meta's stop tokens: end of text, end of message, end of turn (the guard answers with end of turn).
        this.stopIds = tokenizer.stopTokenIds();
        Arrays.sort(stopIds);
    }

    public GuardPromptBuilder prompts() {
        return prompts;
    }

    /** Checks the last message of a conversation. */
    public GuardResult check(List<GuardMessage> messages, GuardOptions options) {
        GuardPrompt prompt = prompts.build(messages, options);
        int[] answer = new int[options.maxNewTokens()];
        int count = 0;
        boolean stopped = false;
        double pUnsafe;
        try (GuardModel.Session session = model.newSession(prompt.ids().length + options.maxNewTokens())) {
            float[] logits = session.ingest(prompt.ids());
            pUnsafe = score.pUnsafe(logits);
            while (count < answer.length) {
                int next = greedy(logits);
                answer[count++] = next;
                if (Arrays.binarySearch(stopIds, next) >= 0) {
                    stopped = true;
                    break;
                }
                if (count < answer.length) {
                    logits = session.decode(next);
                }
            }
        }
        String text = tokenizer.decode(textTokens(answer, count));
        GuardVerdict verdict = GuardVerdict.parse(text, options.effectiveExcluded()).withPUnsafe(pUnsafe);
        return new GuardResult(verdict, text, prompt, count, stopped);
    }

    /** The answer's ids without special tokens (the stop token and anything like it). */
    private int[] textTokens(int[] answer, int count) {
        return Arrays.stream(answer, 0, count).filter(id -> !tokenizer.isSpecial(id)).toArray();
    }

    private int greedy(float[] logits) {
        if (logits.length < tokenizer.vocabularySize()) {
            throw new IllegalArgumentException("the model returned " + logits.length + " logits, the tokenizer has "
                    + tokenizer.vocabularySize() + " ids");
        }
        int best = -1;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            float l = logits[i];
            if (Float.isNaN(l)) {
                throw new IllegalArgumentException("logit " + i + " is NaN: the model output is broken");
            }
            if (l > max) {
                max = l;
                best = i;
            }
        }
        if (best < 0) {
            throw new IllegalArgumentException("every logit is -infinity: no token is possible");
        }
        if (best >= tokenizer.vocabularySize()) {
            throw new IllegalArgumentException("the model chose id " + best + ", outside the tokenizer's "
                    + tokenizer.vocabularySize() + " ids");
        }
        return best;
    }
}
