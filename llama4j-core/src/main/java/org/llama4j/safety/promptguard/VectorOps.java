package org.llama4j.safety.promptguard;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 dot products of the DeBERTa forward pass, with the Vector API. (To be replaced by the shared
 * {@code Kernels} once they land; these are deliberately the only hot loops of the package.)
 */
final class VectorOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorOps() {
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return sum;
    }

    /**
     * Four dot products of one weight row with four inputs, sharing the weight loads: {@code out[k] = w·x_k} where
     * {@code x_k} starts at {@code xo + k·stride}.
     */
    static void dot4(float[] w, int wo, float[] x, int xo, int stride, int n, float[] out) {
        int i = 0;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector wv = FloatVector.fromArray(S, w, wo + i);
            a0 = wv.fma(FloatVector.fromArray(S, x, xo + i), a0);
            a1 = wv.fma(FloatVector.fromArray(S, x, xo + stride + i), a1);
            a2 = wv.fma(FloatVector.fromArray(S, x, xo + 2 * stride + i), a2);
            a3 = wv.fma(FloatVector.fromArray(S, x, xo + 3 * stride + i), a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float wi = w[wo + i];
            s0 += wi * x[xo + i];
            s1 += wi * x[xo + stride + i];
            s2 += wi * x[xo + 2 * stride + i];
            s3 += wi * x[xo + 3 * stride + i];
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }
}
