package org.llama4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized float helpers of the forward pass: dot and axpy (attention scores and weighted sums of values),
 * RMS norm, softmax, SwiGLU and rotary embedding. Each agrees with the obvious scalar loop up to float rounding
 * and summation order (tested against such loops).
 */
public final class VectorOps {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorOps() {
    }

    /** {@code Σ a[aOff+i] * b[bOff+i]} for {@code i < n}. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int lanes = F.length();
        int end2 = n - n % (2 * lanes);
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i < end2; i += 2 * lanes) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOff + i + lanes).fma(FloatVector.fromArray(F, b, bOff + i + lanes), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** {@code y[yOff+i] += alpha * x[xOff+i]} for {@code i < n}. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector va = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    /** {@code x[off+i] *= factor} for {@code i < n}. */
    public static void scale(float[] x, int off, int n, float factor) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector.fromArray(F, x, off + i).mul(factor).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= factor;
        }
    }

    /**
     * RMS norm: {@code out[i] = x[i] / sqrt(mean(x²) + eps) * weight[i]}; {@code weight} may be null (Llama 4's
     * weightless qk-norm). {@code out} may be {@code x}.
     */
    public static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int wOff, int n, float eps) {
        float inv = (float) (1.0 / Math.sqrt(dot(x, xOff, x, xOff, n) / n + eps));
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i).mul(inv);
            if (weight != null) {
                v = v.mul(FloatVector.fromArray(F, weight, wOff + i));
            }
            v.intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = x[xOff + i] * inv * (weight == null ? 1f : weight[wOff + i]);
        }
    }

    /** In-place softmax of {@code x[off .. off+n)}, max-subtracted for range safety (-∞ entries become 0). */
    public static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        int end = F.loopBound(n);
        if (end > 0) {
            FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < end; i += F.length()) {
                vmax = vmax.max(FloatVector.fromArray(F, x, off + i));
            }
            max = vmax.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0f;
        i = 0;
        FloatVector vsum = FloatVector.zero(F);
        for (; i < end; i += F.length()) {
            FloatVector e = FloatVector.fromArray(F, x, off + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            vsum = vsum.add(e);
        }
        sum = vsum.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        scale(x, off, n, 1f / sum);
    }

    /** SwiGLU: {@code out[i] = silu(gate[i]) * up[i]} with {@code silu(g) = g / (1 + e^-g)}. {@code out} may alias. */
    public static void swiglu(float[] out, int outOff, float[] gate, int gOff, float[] up, int uOff, int n) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            FloatVector silu = g.div(g.neg().lanewise(VectorOperators.EXP).add(1f));
            silu.mul(FloatVector.fromArray(F, up, uOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gOff + i];
            out[outOff + i] = g / (1f + (float) Math.exp(-g)) * up[uOff + i];
        }
    }

    /** Lane permutation swapping neighbours (0↔1, 2↔3, ...): the real and imaginary parts of each pair. */
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(F, i -> i ^ 1);
    /** -1 on even lanes, +1 on odd lanes. */
    private static final FloatVector ALTERNATING_SIGN =
            FloatVector.fromArray(F, alternatingSign(F.length()), 0);

    private static float[] alternatingSign(int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = (i & 1) == 0 ? -1f : 1f;
        }
        return s;
    }

    /**
     * Rotary embedding on adjacent pairs, as Meta's Llama 4 ({@code view_as_complex}) and llama.cpp's
     * {@code LLAMA_ROPE_TYPE_NORM}: for each pair {@code p < headDim/2},
     * {@code (x0, x1) ← (x0·cos − x1·sin, x0·sin + x1·cos)} with {@code cosDup[csOff+2p]}, {@code sinDup[csOff+2p]}.
     *
     * <p>{@code cosDup}/{@code sinDup} hold each pair's value twice (entries {@code 2p} and {@code 2p+1}, see
     * {@link #duplicatePairs}) so that they load as lanes aligned with {@code x}.
     */
    public static void rope(float[] x, int off, int headDim, float[] cosDup, float[] sinDup, int csOff) {
        int i = 0;
        for (int end = F.loopBound(headDim); i < end; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            FloatVector swapped = v.rearrange(SWAP_PAIRS).mul(ALTERNATING_SIGN);
            FloatVector c = FloatVector.fromArray(F, cosDup, csOff + i);
            FloatVector s = FloatVector.fromArray(F, sinDup, csOff + i);
            v.mul(c).add(swapped.mul(s)).intoArray(x, off + i);
        }
        for (; i < headDim; i += 2) {
            float x0 = x[off + i];
            float x1 = x[off + i + 1];
            float c = cosDup[csOff + i];
            float s = sinDup[csOff + i];
            x[off + i] = x0 * c - x1 * s;
            x[off + i + 1] = x0 * s + x1 * c;
        }
    }

    /** {@code {v0, v0, v1, v1, ...}}: per-pair cos or sin tables in the layout {@link #rope} reads. */
    public static float[] duplicatePairs(float[] perPair) {
        float[] d = new float[2 * perPair.length];
        for (int p = 0; p < perPair.length; p++) {
            d[2 * p] = perPair[p];
            d[2 * p + 1] = perPair[p];
        }
        return d;
    }
}
