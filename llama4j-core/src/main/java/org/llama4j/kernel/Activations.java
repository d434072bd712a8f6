package org.llama4j.kernel;

/** Scalar activation functions, in float32 as the reference computes them. */
public final class Activations {
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
        for (int i = 0; i < width; i++) {
            out[outOffset + i] = silu(gateUp[gateUpOffset + i]) * gateUp[gateUpOffset + width + i];
        }
    }
}
