package org.llama4j.safety.guard;

import java.util.Objects;
import java.util.stream.IntStream;
import org.llama4j.tokenizer.Tokenizer;

/**
 * The calibrated guard score: the probability, under the model's next-token distribution at the first answer
 * position (temperature 1), that the answer starts with {@code unsafe}.
 *
 * <p>A vocabulary token counts as starting the answer {@code unsafe} when it is not a special token and its text,
 * with leading whitespace removed (the verdict parser strips it too), is non-empty and either starts with
 * {@code unsafe} ({@code unsafe}, {@code  unsafe}, {@code unsafe\n}...) or is a proper prefix of it ({@code u},
 * {@code un}, ... {@code unsaf}). A prefix can only go on to {@code unsafe} or to an answer the parser rejects, and
 * both block, so its mass belongs with {@code unsafe}. (No such prefix can also begin {@code safe}: they differ in
 * the first letter.) Tokens that are whitespace only, or start with anything else ({@code safe}, {@code Unsafe},
 * {@code s}), are not counted: the score is the first token's share, not a guess at later ones.
 *
 * <p>The token set is computed once per tokenizer; scoring is one pass over the logits.
 */
public final class UnsafeScore {
    static final String UNSAFE = "unsafe";

    private final int vocabularySize;
    private final int[] unsafeTokenIds;

    private UnsafeScore(int vocabularySize, int[] unsafeTokenIds) {
        this.vocabularySize = vocabularySize;
        this.unsafeTokenIds = unsafeTokenIds;
    }

    public static UnsafeScore forTokenizer(Tokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        int[] ids = IntStream.range(0, tokenizer.vocabularySize())
                .filter(id -> !tokenizer.isSpecial(id) && startsUnsafe(tokenizer.tokenText(id)))
                .toArray();
        if (ids.length == 0) {
            throw new GuardInputException("no token of " + tokenizer + " can start the answer 'unsafe'");
        }
        return new UnsafeScore(tokenizer.vocabularySize(), ids);
    }

    /** Whether a token with this text can begin an answer that reads {@code unsafe} (see the class comment). */
    static boolean startsUnsafe(String tokenText) {
        String rest = PythonWhitespace.stripLeading(tokenText);
        return !rest.isEmpty() && (rest.startsWith(UNSAFE) || UNSAFE.startsWith(rest));
    }

    /** The counted token ids, ascending. */
    public int[] unsafeTokenIds() {
        return unsafeTokenIds.clone();
    }

    /**
     * P(the first answer token starts {@code unsafe}) for the logits at the first answer position. Logits may be
     * longer than the tokenizer's vocabulary (padded output rows); those entries take part in the softmax.
     *
     * @throws IllegalArgumentException when the logits are shorter than the vocabulary or hold NaN or +infinity
     */
    public double pUnsafe(float[] logits) {
        if (logits.length < vocabularySize) {
            throw new IllegalArgumentException("logits have " + logits.length + " entries, the tokenizer has "
                    + vocabularySize + " ids");
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            float l = logits[i];
            if (Float.isNaN(l) || l == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("logit " + i + " is " + l + ": the model output is broken");
            }
            max = Math.max(max, l);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("every logit is -infinity: no token is possible");
        }
        double total = 0;
        for (float l : logits) {
            total += Math.exp((double) l - max);
        }
        double unsafe = 0;
        for (int id : unsafeTokenIds) {
            unsafe += Math.exp((double) logits[id] - max);
        }
        return Math.min(1.0, unsafe / total);
    }
}
