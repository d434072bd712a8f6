package org.llama4j.kernel;

/**
 * Scaled dot-product attention of one query head over a run of cached keys and values.
 *
 * <p>Keys and values are stored <em>dimension-major</em> ({@code keys[d·stride + slot]}): the scores of one
 * query against all visible keys are then {@code headDim} long axpy passes, and each output component one long
 * dot product, both of which vectorise well even when the head dimension is small.
 */
public final class Attention {
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
        java.util.Arrays.fill(scores, 0, count, 0f);
        for (int d = 0; d < headDim; d++) {
            VectorMath.axpy(q[qOff + d], keys, d * stride, scores, 0, count);
        }
        VectorMath.scale(scores, 0, count, scale);
        VectorMath.softmaxInPlace(scores, 0, count);
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = VectorMath.dot(scores, 0, values, d * stride, count);
        }
    }
}
