package org.llama4j.safety.promptguard;

import java.util.List;

/**
 * The verdict on one text.
 *
 * @param label the model's name for the verdict: its malicious label when {@code maliciousProbability > threshold},
 *     else the most probable other label of the highest-scoring window
 * @param malicious whether {@code maliciousProbability > threshold}
 * @param maliciousProbability the maximum over windows of P(malicious)
 * @param threshold the threshold the label was decided with
 * @param tokenCount tokens of the text, without the {@code [CLS]}/{@code [SEP]} of each window
 * @param windows each window's score, in text order (at least one: an empty text is one {@code [CLS] [SEP]} window)
 */
public record PromptGuardResult(String label, boolean malicious, double maliciousProbability, double threshold,
        int tokenCount, List<WindowScore> windows) {

    /**
     * One window: ids {@code [firstToken, firstToken + tokenCount)} of the text, framed {@code [CLS] … [SEP]}.
     *
     * @param probabilities per label, in {@code id2label} order
     */
    public record WindowScore(int firstToken, int tokenCount, float[] logits, double[] probabilities,
            double maliciousProbability) {
    }
}
