package org.llama4j.vision;

import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.llama4j.kernel.BatchedMatMul;
import org.llama4j.tensor.Tensor;

/**
 * The float32 operations of the vision tower over token-major activations stored flat:
 * {@code x[token · width + feature]}. Large steps run on the common fork-join pool.
 */
final class VisionMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Below this many values an element-wise step stays on the calling thread. */
    private static final int PARALLEL_VALUES = 1 << 15;
    private static final float INV_SQRT2 = 0.70710678118654752f;

    private VisionMath() {
    }

    /** {@code n} rows through {@code nn.Linear(w, bias)} ({@code bias} may be null): {@code [n][w.rowCount()]}. */
    static float[] linear(Tensor w, float[] bias, float[] x, int n) {
        float[] y = new float[Math.multiplyExact(n, Math.toIntExact(w.rowCount()))];
        BatchedMatMul.multiply(w, bias, x, n, y);
        return y;
    }

    /** PyTorch LayerNorm (biased variance) of each of the {@code x.length / dim} tokens; statistics in double. */
    static float[] layerNorm(float[] x, int dim, float[] weight, float[] bias, float eps) {
        int n = x.length / dim;
        float[] y = new float[x.length];
        tokens(n, dim).forEach(t -> {
            int o = t * dim;
            double mean = 0;
            for (int i = 0; i < dim; i++) {
                mean += x[o + i];
            }
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) {
                double d = x[o + i] - mean;
                var += d * d;
            }
            var /= dim;
            float inv = (float) (1.0 / Math.sqrt(var + eps));
            float m = (float) mean;
            for (int i = 0; i < dim; i++) {
                y[o + i] = (x[o + i] - m) * inv * weight[i] + bias[i];
            }
        });
        return y;
    }

    /** Token indices, parallel when the step touches enough values. */
    static IntStream tokens(int n, int width) {
        IntStream range = IntStream.range(0, n);
        return (long) n * width >= PARALLEL_VALUES ? range.parallel() : range;
    }

    /** Exact (erf) GELU of every value, vectorised ({@link #gelu} is the scalar definition it follows). */
    static void geluInPlace(float[] x) {
        int chunk = 1 << 14;
        int chunks = (x.length + chunk - 1) / chunk;
        IntStream range = IntStream.range(0, chunks);
        if (x.length >= PARALLEL_VALUES) {
            range = range.parallel();
        }
        range.forEach(c -> geluRange(x, c * chunk, Math.min(x.length, (c + 1) * chunk)));
    }

    /** {@link #gelu} on {@code x[from .. to)} with the same erfc fit, in float vectors. */
    static void geluRange(float[] x, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            FloatVector u = v.mul(-INV_SQRT2);
            FloatVector z = u.abs();
            FloatVector t = FloatVector.broadcast(S, 1f).div(z.mul(0.5f).add(1f));
            FloatVector poly = t.mul(0.17087277f).add(-0.82215223f)
                    .mul(t).add(1.48851587f)
                    .mul(t).add(-1.13520398f)
                    .mul(t).add(0.27886807f)
                    .mul(t).add(-0.18628806f)
                    .mul(t).add(0.09678418f)
                    .mul(t).add(0.37409196f)
                    .mul(t).add(1.00002368f)
                    .mul(t).add(-1.26551223f);
            FloatVector erfc = t.mul(poly.sub(z.mul(z)).lanewise(VectorOperators.EXP));
            VectorMask<Float> negative = u.lt(0f);
            erfc = erfc.blend(erfc.neg().add(2f), negative);
            v.mul(0.5f).mul(erfc).intoArray(x, i);
        }
        for (; i < to; i++) {
            x[i] = gelu(x[i]);
        }
    }

    /** Exact (erf) GELU, PyTorch's {@code F.gelu} default: x * Phi(x) = x / 2 * erfc(-x / sqrt 2). */
    static float gelu(float x) {
        return (float) (0.5 * x * erfc(-x * 0.7071067811865476));
    }

    /**
     * Complementary error function with fractional error below 1.2e-7 everywhere (Chebyshev fit of
     * Numerical Recipes' {@code erfcc}); relative accuracy in the tail keeps GELU of large negative inputs precise.
     */
    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? ans : 2.0 - ans;
    }

    /** {@code x += y}, element-wise. */
    static void addInPlace(float[] x, float[] y) {
        int i = 0;
        for (; i + L <= x.length; i += L) {
            FloatVector.fromArray(S, x, i).add(FloatVector.fromArray(S, y, i)).intoArray(x, i);
        }
        for (; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    /** Rows {@code 0 .. n)} of a flat {@code [n][width]} array as separate arrays (for traces). */
    static float[][] rows(float[] x, int n, int width) {
        float[][] out = new float[n][];
        for (int t = 0; t < n; t++) {
            out[t] = java.util.Arrays.copyOfRange(x, t * width, (t + 1) * width);
        }
        return out;
    }
}
