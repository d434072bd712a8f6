package org.llama4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The innermost float32 loops every other kernel is built from (dot product, axpy, scaling, softmax), written
 * once with the Vector API. Everything works on {@code float[]} with explicit offsets so that callers can keep
 * batches of vectors in one flat array.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {
    }

    /** {@code Σ a[ao+i]·b[bo+i]} for {@code i < n}. */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        float sum = 0f;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(S);
            for (; i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return sum;
    }

    /** {@code y[yo+i] += alpha·x[xo+i]} for {@code i < n}. */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    /** {@code x[o+i] *= s} for {@code i < n}. */
    public static void scale(float[] x, int o, int n, float s) {
        int i = 0;
        int bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, o + i).mul(s).intoArray(x, o + i);
        }
        for (; i < n; i++) {
            x[o + i] *= s;
        }
    }

    /** {@code y[yo+i] += x[xo+i]} for {@code i < n}. */
    public static void add(float[] x, int xo, float[] y, int yo, int n) {
        axpy(1f, x, xo, y, yo, n);
    }

    /** Index of the largest of {@code x[o .. o+n)} (the first one on ties). */
    public static int argmax(float[] x, int o, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[o + i] > x[o + best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Numerically stable softmax of {@code x[o .. o+n)} in place: the maximum is subtracted before {@code exp},
     * so large scores cannot overflow.
     */
    public static void softmaxInPlace(float[] x, int o, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[o + i]);
        }
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector sumV = FloatVector.zero(S);
        for (; i < bound; i += S.length()) {
            FloatVector e = FloatVector.fromArray(S, x, o + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, o + i);
            sumV = sumV.add(e);
        }
        float sum = sumV.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[o + i] - max);
            x[o + i] = e;
            sum += e;
        }
        scale(x, o, n, 1f / sum);
    }
}
