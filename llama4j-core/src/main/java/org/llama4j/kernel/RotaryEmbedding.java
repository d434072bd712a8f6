package org.llama4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotary position embedding in Meta's layout: each head vector is a sequence of adjacent pairs
 * {@code (x[2i], x[2i+1])}, read as a complex number and multiplied by {@code e^(i·pos·freq[i])}, as in Meta's
 * code and llama.cpp's rope type NORM. This is the only RoPE: HF Llama 3 checkpoints, whose q/k rows
 * transformers permuted for its "NeoX" half-split RoPE, are read through a view that undoes the permutation
 * ({@code HfWeightLayout}); Llama 4 and GGUF checkpoints are stored unpermuted.
 *
 * <p>Angles are formed as in the reference: {@code float32(pos · freq)}, then cos/sin of that float. At
 * positions in the tens of thousands the float32 rounding of the angle is larger than float noise, so doing
 * this in double would move the result away from the reference.
 */
public final class RotaryEmbedding {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Swaps the lanes of each pair (0↔1, 2↔3, ...). */
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(S, i -> i ^ 1);
    private static final FloatVector NEGATE_EVEN_LANES = FloatVector.fromArray(S, alternatingSigns(S.length()), 0);

    private static float[] alternatingSigns(int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = (i & 1) == 0 ? -1f : 1f;
        }
        return s;
    }

    private final float[] frequencies;
    private final int headDim;

    public RotaryEmbedding(float[] frequencies) {
        this.frequencies = frequencies.clone();
        this.headDim = 2 * frequencies.length;
    }

    /** Frequencies {@code theta^(-2i/headDim)}, optionally rescaled by the llama3 rule. */
    public static RotaryEmbedding of(float theta, int headDim, RopeScaling scaling) {
        return new RotaryEmbedding(frequencies(theta, headDim, scaling));
    }

    public static float[] frequencies(float theta, int headDim, RopeScaling scaling) {
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("RoPE needs an even head dimension, got " + headDim);
        }
        float[] f = new float[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            float exponent = (float) (2 * i) / headDim;
            float freq = 1f / (float) Math.pow(theta, exponent);
            f[i] = scaling == null ? freq : scaling.scale(freq);
        }
        return f;
    }

    public float[] frequencies() {
        return frequencies.clone();
    }

    public int headDim() {
        return headDim;
    }

    /** Fills {@code cos[i]}, {@code sin[i]} (length headDim/2) with the rotation for absolute position {@code pos}. */
    public void rotation(int pos, float[] cos, float[] sin) {
        float p = pos;
        for (int i = 0; i < frequencies.length; i++) {
            float angle = p * frequencies[i];
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
        }
    }

    /**
     * Rotates {@code heads} consecutive head vectors starting at {@code x[off]} by a precomputed rotation. In
     * lanes: with {@code c}, {@code s} repeated per pair and {@code x'} = x with each pair swapped and its first
     * element negated ({@code -im, re}), the result is {@code x·c + x'·s}.
     */
    public void rotate(float[] x, int off, int heads, float[] cos, float[] sin) {
        int vectorEnd = S.loopBound(headDim);
        float[] cosPairs = new float[vectorEnd];
        float[] sinPairs = new float[vectorEnd];
        for (int i = 0; i < vectorEnd; i++) {
            cosPairs[i] = cos[i / 2];
            sinPairs[i] = sin[i / 2];
        }
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            for (int j = 0; j < vectorEnd; j += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, base + j);
                FloatVector swapped = v.rearrange(SWAP_PAIRS).mul(NEGATE_EVEN_LANES);
                v.mul(FloatVector.fromArray(S, cosPairs, j))
                        .add(swapped.mul(FloatVector.fromArray(S, sinPairs, j)))
                        .intoArray(x, base + j);
            }
            for (int i = vectorEnd / 2; i < frequencies.length; i++) {
                float re = x[base + 2 * i];
                float im = x[base + 2 * i + 1];
                x[base + 2 * i] = re * cos[i] - im * sin[i];
                x[base + 2 * i + 1] = re * sin[i] + im * cos[i];
            }
        }
    }
}
