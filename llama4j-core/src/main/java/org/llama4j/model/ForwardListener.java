package org.llama4j.model;

/**
 * Optional observer of a forward pass (for tests, debugging and analysis): sees the residual stream after the
 * embedding and after every block, each routing decision, and the final-norm output. Arrays are the engine's
 * working buffers: copy what you keep. Positions are absolute.
 */
public interface ForwardListener {
    ForwardListener NONE = new ForwardListener() {
    };

    default void embedding(int position, float[] x, int offset, int length) {
    }

    default void blockOutput(int layer, int position, float[] x, int offset, int length) {
    }

    /** The experts chosen for a token in a MoE layer, best first, with their sigmoid gates. */
    default void routing(int layer, int position, int[] experts, float[] gates) {
    }

    default void finalNorm(int position, float[] x, int offset, int length) {
    }
}
