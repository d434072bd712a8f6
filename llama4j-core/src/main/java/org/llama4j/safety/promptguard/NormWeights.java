package org.llama4j.safety.promptguard;

import org.llama4j.kernel.LayerNorm;

/** The parameters of one {@code nn.LayerNorm} over rows of {@code width} values, applied by the shared kernel. */
record NormWeights(float[] weight, float[] bias, double eps) {

    int width() {
        return weight.length;
    }

    void applyInPlace(float[] x, int rows) {
        LayerNorm.applyRows(x, rows, weight, bias, eps);
    }
}
