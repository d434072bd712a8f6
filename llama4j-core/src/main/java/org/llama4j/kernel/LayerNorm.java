package org.llama4j.kernel;

/**
 * PyTorch {@code nn.LayerNorm} over vectors of {@code n} values (biased variance):
 * {@code (x − mean) · rsqrt(var + eps) · w + b}. Mean, variance and the normalised value are computed in double,
 * the affine step in float32. Used by the vision encoder and by Prompt Guard's DeBERTa; {@link RmsNorm} is its
 * Llama counterpart.
 */
public final class LayerNorm {
    private LayerNorm() {
    }

    /** Normalises {@code x[xo .. xo+n)} into {@code out[oo ..]}; {@code out} may be {@code x} (same offset). */
    public static void apply(float[] x, int xo, float[] weight, float[] bias, double eps, float[] out, int oo, int n) {
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += x[xo + i];
        }
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; i++) {
            double d = x[xo + i] - mean;
            var += d * d;
        }
        var /= n;
        double inv = 1.0 / Math.sqrt(var + eps);
        for (int i = 0; i < n; i++) {
            out[oo + i] = (float) ((x[xo + i] - mean) * inv) * weight[i] + bias[i];
        }
    }

    /** Normalises each of {@code rows} consecutive vectors of {@code weight.length} values in place. */
    public static void applyRows(float[] x, int rows, float[] weight, float[] bias, double eps) {
        int n = weight.length;
        for (int r = 0; r < rows; r++) {
            apply(x, r * n, weight, bias, eps, x, r * n, n);
        }
    }
}
