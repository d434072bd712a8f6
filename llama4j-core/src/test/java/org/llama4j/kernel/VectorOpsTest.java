package org.llama4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each helper against the scalar loop it replaces (lengths with and without vector tails). */
class VectorOpsTest {

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
        assertClose(expected, VectorOps.dot(a, 3, b, 5, n), 1e-6 * magnitude + 1e-30, "dot");

        float[] y = b.clone();
        VectorOps.axpy(0.75f, a, 3, y, 5, n);
        for (int i = 0; i < b.length; i++) {
            double e = i >= 5 && i < 5 + n ? b[i] + 0.75 * a[i - 2] : b[i];
            assertClose(e, y[i], 1e-6 * (Math.abs(b[i]) + Math.abs(a[Math.max(0, i - 2) % a.length])), "axpy " + i);
        }

        float[] s = a.clone();
        VectorOps.scale(s, 3, n, -2.5f);
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
        VectorOps.rmsNorm(out, 0, x, 0, w, 0, n, 1e-5f);
        float[] plain = x.clone();
        VectorOps.rmsNorm(plain, 0, plain, 0, null, 0, n, 1e-5f);
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
        VectorOps.softmax(y, 2, n);
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
        float[] out = new float[n];
        VectorOps.swiglu(out, 0, g, 0, u, 0, n);
        for (int i = 0; i < n; i++) {
            double expected = g[i] / (1 + Math.exp(-g[i])) * u[i];
            assertClose(expected, out[i], 1e-6 * Math.abs(expected) + 1e-7, "swiglu " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 6, 16, 64, 128})
    void ropeRotatesAdjacentPairs(int headDim) {
        Random rnd = new Random(headDim);
        float[] x = gaussian(rnd, headDim + 4);
        float[] cos = new float[headDim / 2];
        float[] sin = new float[headDim / 2];
        for (int p = 0; p < headDim / 2; p++) {
            double angle = 7 * Math.pow(500000, -2.0 * p / headDim);
            cos[p] = (float) Math.cos(angle);
            sin[p] = (float) Math.sin(angle);
        }
        float[] y = x.clone();
        VectorOps.rope(y, 4, headDim, VectorOps.duplicatePairs(cos), VectorOps.duplicatePairs(sin), 0);
        for (int p = 0; p < headDim / 2; p++) {
            double x0 = x[4 + 2 * p];
            double x1 = x[4 + 2 * p + 1];
            assertClose(x0 * cos[p] - x1 * sin[p], y[4 + 2 * p], 1e-6 * (Math.abs(x0) + Math.abs(x1)), "re " + p);
            assertClose(x0 * sin[p] + x1 * cos[p], y[4 + 2 * p + 1], 1e-6 * (Math.abs(x0) + Math.abs(x1)), "im " + p);
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(x[i], y[i]);
        }
    }
}
