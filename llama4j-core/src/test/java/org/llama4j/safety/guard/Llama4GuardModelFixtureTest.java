package org.llama4j.safety.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llama4j.model.InferenceSession;
import org.llama4j.model.Llama4Model;
import org.llama4j.testing.Fixtures;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;

/**
 * The guard on the real forward pass: tiny-scout (random weights, truncated vocabulary) answers nonsense, but the
 * adapter's small per-check cache and one-token decoding must agree with a full-context prefill of the same text.
 */
class Llama4GuardModelFixtureTest {
    private static Llama4Model model;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        Path gguf = Fixtures.require("llama4-tiny/tiny-scout/tiny-scout.BF16.gguf");
        model = Llama4Model.load(gguf);
        tokenizer = TokenizerLoader.load(gguf);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void greedyAnswerAndScoreMatchAFullPrefill() {
        LlamaGuard guard = new LlamaGuard(new Llama4GuardModel(model), tokenizer);
        // tiny-scout's context is 256 tokens: two categories and a short exchange fit.
        GuardOptions options = GuardOptions.defaults().withCategories(List.of(HazardCategory.S1, HazardCategory.S9))
                .withMaxNewTokens(6);
        GuardResult r = guard.check(List.of(GuardMessage.user("A bomb?"), GuardMessage.assistant("No.")), options);

        int[] prompt = r.prompt().ids();
        assertThat(r.generatedTokens()).isBetween(1, 6);
        int[] answer = new int[r.generatedTokens()];
        double expectedScore;
        try (InferenceSession reference = model.newSession()) {
            float[][] all = reference.ingestAll(prompt);
            float[] logits = all[prompt.length - 1];
            expectedScore = UnsafeScore.forTokenizer(tokenizer).pUnsafe(logits);
            for (int i = 0; i < answer.length; i++) {
                answer[i] = argmax(logits);
                if (i + 1 < answer.length) {
                    logits = reference.decode(answer[i]);
                }
            }
        }
        int[] text = Arrays.stream(answer).filter(id -> !tokenizer.isSpecial(id)).toArray();
        assertThat(r.answer()).isEqualTo(tokenizer.decode(text));
        assertThat(r.verdict().pUnsafe().getAsDouble()).isCloseTo(expectedScore, within(1e-5));
        // Random weights do not answer "safe" or "unsafe\n<codes>": whatever came out must not pass.
        if (!r.answer().strip().equals("safe")) {
            assertThat(r.block()).isTrue();
        }
    }

    @Test
    void promptBeyondTheContextIsASpecificError() {
        LlamaGuard guard = new LlamaGuard(new Llama4GuardModel(model), tokenizer);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> guard.check(List.of(GuardMessage.user("hi")),
                GuardOptions.defaults())).isInstanceOf(GuardInputException.class)
                .hasMessageContaining("the model's context holds 256");
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
