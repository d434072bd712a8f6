package org.llama4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Activation functions, in float32 as the reference computes them (SwiGLU vectorized). */
public final class Activations {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Activations() {
    }

    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** SiLU (swish): {@code x·sigmoid(x)}. */
    public static float silu(float x) {
        return x * sigmoid(x);
    }

    /**
     * SwiGLU on a row holding the gate half then the up half: {@code out[i] = silu(gateUp[i]) · gateUp[width+i]}.
     */
    public static void swiGlu(float[] gateUp, int gateUpOffset, int width, float[] out, int outOffset) {
        int i = 0;
        for (int bound = S.loopBound(width); i < bound; i += S.length()) {
            FloatVector g = FloatVector.fromArray(S, gateUp, gateUpOffset + i);
            FloatVector silu = g.div(g.neg().lanewise(VectorOperators.EXP).add(1f));
            silu.mul(FloatVector.fromArray(S, gateUp, gateUpOffset + width + i)).intoArray(out, outOffset + i);
        }
        for (; i < width; i++) {
            out[outOffset + i] = silu(gateUp[gateUpOffset + i]) * gateUp[gateUpOffset + width + i];
        }
    }
}
