package org.llama4j.safety.promptguard;

/** {@code nn.LayerNorm} over rows of {@code width} values; statistics in double, output in float32. */
record LayerNorm(float[] weight, float[] bias, double eps) {

    int width() {
        return weight.length;
    }

    void applyInPlace(float[] x, int rows) {
        int w = weight.length;
        for (int r = 0; r < rows; r++) {
            int o = r * w;
            double mean = 0;
            for (int i = 0; i < w; i++) {
                mean += x[o + i];
            }
            mean /= w;
            double var = 0;
            for (int i = 0; i < w; i++) {
                double d = x[o + i] - mean;
                var += d * d;
            }
            var /= w;
            double inv = 1.0 / Math.sqrt(var + eps);
            for (int i = 0; i < w; i++) {
                x[o + i] = (float) ((x[o + i] - mean) * inv) * weight[i] + bias[i];
            }
        }
    }
}
