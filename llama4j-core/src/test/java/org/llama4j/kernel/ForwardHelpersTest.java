package org.llama4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The vectorized helpers of the forward pass ({@link VectorMath}, {@link RmsNorm}, {@link Activations},
 * {@link RotaryEmbedding}) against the scalar loops they replace, with lengths with and without vector tails.
 */
class ForwardHelpersTest {

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static void assertClose(double expected, float actual, double tolerance, String what) {
        assertEquals(expected, actual, tolerance, what);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 6, 16, 64, 131, 1000})
    void dotAxpyScale(int n) {
        Random rnd = new Random(n);
        float[] a = gaussian(rnd, n + 3);
        float[] b = gaussian(rnd, n + 5);
        double expected = 0;
        double magnitude = 0;
        for (int i = 0; i < n; i++) {
            expected += (double) a[3 + i] * b[5 + i];
            magnitude += Math.abs((double) a[3 + i] * b[5 + i]);
        }
        assertClose(expected, VectorMath.dot(a, 3, b, 5, n), 1e-6 * magnitude + 1e-30, "dot");

        float[] y = b.clone();
        VectorMath.axpy(0.75f, a, 3, y, 5, n);
        for (int i = 0; i < b.length; i++) {
            double e = i >= 5 && i < 5 + n ? b[i] + 0.75 * a[i - 2] : b[i];
            assertClose(e, y[i], 1e-6 * (Math.abs(b[i]) + Math.abs(a[Math.max(0, i - 2) % a.length])), "axpy " + i);
        }

        float[] s = a.clone();
        VectorMath.scale(s, 3, n, -2.5f);
        for (int i = 0; i < a.length; i++) {
            assertEquals(i >= 3 && i < 3 + n ? a[i] * -2.5f : a[i], s[i], "scale " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 64, 100, 5120})
    void rmsNormWithAndWithoutWeight(int n) {
        Random rnd = new Random(n);
        float[] x = gaussian(rnd, n);
        float[] w = gaussian(rnd, n);
        double ss = 0;
        for (float v : x) {
            ss += (double) v * v;
        }
        double inv = 1 / Math.sqrt(ss / n + 1e-5);
        float[] out = new float[n];
        RmsNorm.apply(x, 0, w, 1e-5f, out, 0, n);
        float[] plain = x.clone();
        RmsNorm.apply(plain, 0, null, 1e-5f, plain, 0, n);
        for (int i = 0; i < n; i++) {
            assertClose(x[i] * inv * w[i], out[i], 1e-5 * Math.abs(x[i] * inv * w[i]) + 1e-7, "weighted " + i);
            assertClose(x[i] * inv, plain[i], 1e-5 * Math.abs(x[i] * inv) + 1e-7, "weightless " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 64, 333})
    void softmaxSumsToOneAndMatchesScalar(int n) {
        Random rnd = new Random(n);
        float[] x = gaussian(rnd, n + 2);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 10;
        }
        if (n > 3) {
            x[2 + n - 1] = Float.NEGATIVE_INFINITY; // masked position
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[2 + i]);
        }
        double sum = 0;
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = Math.exp(x[2 + i] - max);
            sum += e[i];
        }
        float[] y = x.clone();
        VectorMath.softmaxInPlace(y, 2, n);
        assertEquals(x[0], y[0]);
        assertEquals(x[1], y[1]);
        for (int i = 0; i < n; i++) {
            assertClose(e[i] / sum, y[2 + i], 1e-6, "softmax " + i);
        }
        if (n > 3) {
            assertEquals(0f, y[2 + n - 1]);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 16, 100, 8192})
    void swigluMatchesScalar(int n) {
        Random rnd = new Random(n);
        float[] g = gaussian(rnd, n);
        float[] u = gaussian(rnd, n);
        for (int i = 0; i < n; i++) {
            g[i] *= 8; // reach both tails of the sigmoid
        }
        float[] gateUp = new float[1 + 2 * n];
        System.arraycopy(g, 0, gateUp, 1, n);
        System.arraycopy(u, 0, gateUp, 1 + n, n);
        float[] out = new float[n + 2];
        Activations.swiGlu(gateUp, 1, n, out, 2);
        for (int i = 0; i < n; i++) {
            double expected = g[i] / (1 + Math.exp(-g[i])) * u[i];
            assertClose(expected, out[2 + i], 1e-6 * Math.abs(expected) + 1e-7, "swiglu " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 6, 16, 40, 64, 128})
    void ropeRotatesAdjacentPairsBitForBit(int headDim) {
        Random rnd = new Random(headDim);
        int heads = 3;
        RotaryEmbedding rope = RotaryEmbedding.of(500000f, headDim, null);
        float[] cos = new float[headDim / 2];
        float[] sin = new float[headDim / 2];
        rope.rotation(77, cos, sin);
        float[] x = gaussian(rnd, heads * headDim + 4);
        float[] y = x.clone();
        rope.rotate(y, 4, heads, cos, sin);
        for (int h = 0; h < heads; h++) {
            for (int p = 0; p < headDim / 2; p++) {
                int i = 4 + h * headDim + 2 * p;
                // x·c + (-im, re)·s is the scalar formula's operations exactly (negation and a+b=b+a are exact)
                assertEquals(x[i] * cos[p] - x[i + 1] * sin[p], y[i], "re " + h + "/" + p);
                assertEquals(x[i] * sin[p] + x[i + 1] * cos[p], y[i + 1], "im " + h + "/" + p);
            }
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(x[i], y[i]);
        }
    }
}
