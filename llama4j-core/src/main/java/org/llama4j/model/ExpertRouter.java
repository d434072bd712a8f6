package org.llama4j.model;

import org.llama4j.kernel.Activations;

/**
 * Llama 4's token-choice router: the top-k experts by <em>raw</em> router score, each weighted by
 * {@code sigmoid(score)} (not a softmax over experts). The weight later scales the expert's input.
 */
public final class ExpertRouter {
    private ExpertRouter() {
    }

    /**
     * Chooses the {@code experts.length} best of {@code scores[off .. off+count)} in descending order of score
     * (lowest index first on ties, like {@code torch.topk} on CPU) and writes their gates.
     */
    public static void route(float[] scores, int off, int count, int[] experts, float[] gates) {
        int k = experts.length;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < count; e++) {
                if (isChosen(experts, j, e)) {
                    continue;
                }
                if (best < 0 || scores[off + e] > scores[off + best]) {
                    best = e;
                }
            }
            experts[j] = best;
            gates[j] = Activations.sigmoid(scores[off + best]);
        }
    }

    private static boolean isChosen(int[] experts, int chosenSoFar, int e) {
        for (int i = 0; i < chosenSoFar; i++) {
            if (experts[i] == e) {
                return true;
            }
        }
        return false;
    }
}
