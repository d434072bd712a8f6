package org.llama4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scaled dot-product attention of one query head over a run of cached keys and values.
 *
 * <p>Keys and values are stored <em>dimension-major</em> ({@code keys[d·stride + slot]}): the scores of one
 * query against a tile of keys accumulate in a few vector registers while the loop walks the head dimension, and
 * each output component is a long dot product with the probabilities. Both vectorise well even when the head
 * dimension is small (16 in the test models), which matters at long context where attention dominates.
 */
public final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private Attention() {
    }

    /**
     * {@code out = softmax(scale · q·K[:, 0..count)) · V[:, 0..count)}.
     *
     * @param q       the query head at {@code q[qOff .. qOff+headDim)}
     * @param keys    dimension-major keys, {@code keys[d·stride + slot]}
     * @param values  dimension-major values, same layout
     * @param count   number of visible slots, starting at slot 0
     * @param scores  scratch of at least {@code count} floats
     */
    public static void attend(float[] q, int qOff, int headDim, float[] keys, float[] values, int stride, int count,
                              float scale, float[] scores, float[] out, int outOff) {
        float max = scores(q, qOff, headDim, keys, stride, count, scale, scores);
        float sum = expInPlace(scores, count, max);
        float inv = 1f / sum;
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            weightedSum4(scores, values, d * stride, stride, count, out, outOff + d, inv);
        }
        for (; d < headDim; d++) {
            out[outOff + d] = VectorMath.dot(scores, 0, values, d * stride, count) * inv;
        }
    }

    /** {@code scores[s] = scale·q·K[:, s]} for {@code s < count}; returns the largest score. */
    private static float scores(float[] q, int qOff, int headDim, float[] keys, int stride, int count, float scale,
                                float[] scores) {
        FloatVector maxV = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int s = 0;
        for (; s + 4 * L <= count; s += 4 * L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int d = 0; d < headDim; d++) {
                FloatVector qd = FloatVector.broadcast(S, q[qOff + d]);
                int base = d * stride + s;
                a0 = FloatVector.fromArray(S, keys, base).fma(qd, a0);
                a1 = FloatVector.fromArray(S, keys, base + L).fma(qd, a1);
                a2 = FloatVector.fromArray(S, keys, base + 2 * L).fma(qd, a2);
                a3 = FloatVector.fromArray(S, keys, base + 3 * L).fma(qd, a3);
            }
            a0 = a0.mul(scale);
            a1 = a1.mul(scale);
            a2 = a2.mul(scale);
            a3 = a3.mul(scale);
            a0.intoArray(scores, s);
            a1.intoArray(scores, s + L);
            a2.intoArray(scores, s + 2 * L);
            a3.intoArray(scores, s + 3 * L);
            maxV = maxV.max(a0.max(a1).max(a2.max(a3)));
        }
        for (; s + L <= count; s += L) {
            FloatVector a0 = FloatVector.zero(S);
            for (int d = 0; d < headDim; d++) {
                a0 = FloatVector.fromArray(S, keys, d * stride + s).fma(FloatVector.broadcast(S, q[qOff + d]), a0);
            }
            a0 = a0.mul(scale);
            a0.intoArray(scores, s);
            maxV = maxV.max(a0);
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        for (; s < count; s++) {
            float dot = 0f;
            for (int d = 0; d < headDim; d++) {
                dot += q[qOff + d] * keys[d * stride + s];
            }
            scores[s] = dot * scale;
            max = Math.max(max, scores[s]);
        }
        return max;
    }

    /** {@code scores[s] = exp(scores[s] - max)}; returns their sum (softmax without the final division). */
    private static float expInPlace(float[] scores, int count, float max) {
        FloatVector sumV = FloatVector.zero(S);
        int s = 0;
        for (; s + L <= count; s += L) {
            FloatVector e = FloatVector.fromArray(S, scores, s).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(scores, s);
            sumV = sumV.add(e);
        }
        float sum = sumV.reduceLanes(VectorOperators.ADD);
        for (; s < count; s++) {
            float e = (float) Math.exp(scores[s] - max);
            scores[s] = e;
            sum += e;
        }
        return sum;
    }

    /** Four output components at once, reading each probability vector once: {@code out[j] = inv·Σ p·V[d+j]}. */
    private static void weightedSum4(float[] p, float[] values, int base, int stride, int count, float[] out, int o,
                                     float inv) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int s = 0;
        for (; s + L <= count; s += L) {
            FloatVector pv = FloatVector.fromArray(S, p, s);
            a0 = FloatVector.fromArray(S, values, base + s).fma(pv, a0);
            a1 = FloatVector.fromArray(S, values, base + stride + s).fma(pv, a1);
            a2 = FloatVector.fromArray(S, values, base + 2 * stride + s).fma(pv, a2);
            a3 = FloatVector.fromArray(S, values, base + 3 * stride + s).fma(pv, a3);
        }
        float r0 = a0.reduceLanes(VectorOperators.ADD);
        float r1 = a1.reduceLanes(VectorOperators.ADD);
        float r2 = a2.reduceLanes(VectorOperators.ADD);
        float r3 = a3.reduceLanes(VectorOperators.ADD);
        for (; s < count; s++) {
            r0 += p[s] * values[base + s];
            r1 += p[s] * values[base + stride + s];
            r2 += p[s] * values[base + 2 * stride + s];
            r3 += p[s] * values[base + 3 * stride + s];
        }
        out[o] = r0 * inv;
        out[o + 1] = r1 * inv;
        out[o + 2] = r2 * inv;
        out[o + 3] = r3 * inv;
    }
}
