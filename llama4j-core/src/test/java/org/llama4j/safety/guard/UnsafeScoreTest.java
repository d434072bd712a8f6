package org.llama4j.safety.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.llama4j.tokenizer.Tokenizer;

class UnsafeScoreTest {
    private final Tokenizer tokenizer = TinyGuardVocabulary.llama4();
    private final UnsafeScore score = UnsafeScore.forTokenizer(tokenizer);

    @Test
    void countsTokensThatStartOrArePrefixesOfUnsafe() {
        assertThat(score.unsafeTokenIds()).containsExactly('u', TinyGuardVocabulary.id("un"),
                TinyGuardVocabulary.id("unsafe"), TinyGuardVocabulary.id(" unsafe"), TinyGuardVocabulary.id("uns"));
    }

    @Test
    void tokenRule() {
        assertThat(UnsafeScore.startsUnsafe("unsafe")).isTrue();
        assertThat(UnsafeScore.startsUnsafe("\n\n unsafe\n")).isTrue();
        assertThat(UnsafeScore.startsUnsafe("unsaf")).isTrue();
        assertThat(UnsafeScore.startsUnsafe("unsafely")).isTrue();
        assertThat(UnsafeScore.startsUnsafe("unsure")).isFalse();
        assertThat(UnsafeScore.startsUnsafe("safe")).isFalse();
        assertThat(UnsafeScore.startsUnsafe("Unsafe")).isFalse();
        assertThat(UnsafeScore.startsUnsafe("\n\n")).isFalse();
        assertThat(UnsafeScore.startsUnsafe("")).isFalse();
    }

    private float[] logits(int length) {
        float[] logits = new float[length];
        Arrays.fill(logits, Float.NEGATIVE_INFINITY);
        return logits;
    }

    @Test
    void softmaxShareOfTheUnsafeTokens() {
        float[] logits = logits(tokenizer.vocabularySize());
        logits[TinyGuardVocabulary.id("unsafe")] = (float) Math.log(3);
        logits['u'] = 0; // weight 1
        logits[TinyGuardVocabulary.id("safe")] = 0; // weight 1
        assertThat(score.pUnsafe(logits)).isCloseTo(4.0 / 5.0, within(1e-6));
        // Shifting every logit changes nothing; large values do not overflow.
        for (int i = 0; i < logits.length; i++) {
            logits[i] += 1000f;
        }
        assertThat(score.pUnsafe(logits)).isCloseTo(4.0 / 5.0, within(1e-4));
    }

    @Test
    void paddedOutputRowsTakePartInTheSoftmax() {
        float[] logits = logits(tokenizer.vocabularySize() + 64);
        logits[TinyGuardVocabulary.id(" unsafe")] = 0;
        logits[tokenizer.vocabularySize() + 3] = 0;
        assertThat(score.pUnsafe(logits)).isCloseTo(0.5, within(1e-9));
    }

    @Test
    void uniformLogitsGiveTheSetsShare() {
        float[] logits = new float[tokenizer.vocabularySize()];
        assertThat(score.pUnsafe(logits)).isCloseTo(5.0 / tokenizer.vocabularySize(), within(1e-9));
    }

    @Test
    void badLogitsAreSpecificErrors() {
        assertThatThrownBy(() -> score.pUnsafe(new float[10])).hasMessageContaining("logits have 10 entries");
        float[] nan = new float[tokenizer.vocabularySize()];
        nan[7] = Float.NaN;
        assertThatThrownBy(() -> score.pUnsafe(nan)).hasMessageContaining("logit 7 is NaN");
        assertThatThrownBy(() -> score.pUnsafe(logits(tokenizer.vocabularySize())))
                .hasMessageContaining("-infinity");
    }
}
