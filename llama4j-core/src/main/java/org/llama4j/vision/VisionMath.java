package org.llama4j.vision;

import java.util.stream.IntStream;
import org.llama4j.tensor.Tensor;

/** The few float32 operations the vision tower needs, over token-major activations {@code x[token][feature]}. */
final class VisionMath {
    /** Below this many multiply-adds a linear map stays on the calling thread. */
    private static final long PARALLEL_WORK = 1L << 18;

    private VisionMath() {
    }

    /** {@code out[t][o] = w.row(o) . x[t] + bias[o]} ({@code bias} may be null), each token in parallel. */
    static float[][] linear(Tensor w, float[] bias, float[][] x) {
        int in = Math.toIntExact(w.rowLength());
        int out = Math.toIntExact(w.rowCount());
        float[][] y = new float[x.length][];
        IntStream range = IntStream.range(0, x.length);
        if ((long) x.length * in * out >= PARALLEL_WORK) {
            range = range.parallel();
        }
        range.forEach(t -> {
            float[] xt = x[t];
            if (xt.length != in) {
                throw new IllegalStateException(w.name() + " expects " + in + " inputs, got " + xt.length);
            }
            float[] yt = new float[out];
            for (int o = 0; o < out; o++) {
                yt[o] = w.dotRow(o, xt, 0) + (bias == null ? 0f : bias[o]);
            }
            y[t] = yt;
        });
        return y;
    }

    /** PyTorch LayerNorm (biased variance) on each token, statistics in double. */
    static float[][] layerNorm(float[][] x, float[] weight, float[] bias, float eps) {
        float[][] y = new float[x.length][];
        for (int t = 0; t < x.length; t++) {
            float[] v = x[t];
            double mean = 0;
            for (float f : v) {
                mean += f;
            }
            mean /= v.length;
            double var = 0;
            for (float f : v) {
                double d = f - mean;
                var += d * d;
            }
            var /= v.length;
            float inv = (float) (1.0 / Math.sqrt(var + eps));
            float m = (float) mean;
            float[] o = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                o[i] = (v[i] - m) * inv * weight[i] + bias[i];
            }
            y[t] = o;
        }
        return y;
    }

    static void geluInPlace(float[][] x) {
        for (float[] v : x) {
            for (int i = 0; i < v.length; i++) {
                v[i] = gelu(v[i]);
            }
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

    static void addInPlace(float[][] x, float[][] y) {
        for (int t = 0; t < x.length; t++) {
            for (int i = 0; i < x[t].length; i++) {
                x[t][i] += y[t][i];
            }
        }
    }
}
