package org.llama4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Root-mean-square normalisation, {@code x · rsqrt(mean(x²) + eps) · w}. Llama 4 uses it before every block,
 * at the end of the model, and (without a weight) over each query/key head for QK-norm.
 */
public final class RmsNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private RmsNorm() {
    }

    /**
     * Normalises {@code x[xo .. xo+n)} into {@code out[oo ..]}; {@code weight} may be {@code null} for the
     * weightless variant. {@code out} may be {@code x} (same offset) for in-place use.
     */
    public static void apply(float[] x, int xo, float[] weight, float eps, float[] out, int oo, int n) {
        float ss = VectorMath.dot(x, xo, x, xo, n);
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i).mul(inv);
            if (weight != null) {
                v = v.mul(FloatVector.fromArray(S, weight, i));
            }
            v.intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float v = x[xo + i] * inv;
            out[oo + i] = weight == null ? v : v * weight[i];
        }
    }

    /** Applies the weightless norm to each of {@code count} consecutive vectors of length {@code n}, in place. */
    public static void applyPerHead(float[] x, int xo, int count, int n, float eps) {
        for (int h = 0; h < count; h++) {
            apply(x, xo + h * n, null, eps, x, xo + h * n, n);
        }
    }
}
