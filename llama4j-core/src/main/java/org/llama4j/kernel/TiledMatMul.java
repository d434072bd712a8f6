package org.llama4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.llama4j.tensor.Tensor;

/**
 * The exact batched product behind {@link Kernels#matmul}: rows of a weight stored one row per output
 * ({@code nn.Linear}) times a batch of activation vectors, cache-blocked and register-tiled.
 *
 * <p>The weight rows are cut into panels that fit in L2 once decoded to float, so every weight row is decoded
 * exactly once per product. Inside a panel, blocks of {@value #TOKENS} activation vectors (small enough for L1)
 * are multiplied with groups of {@value #ROWS} weight rows: {@code ROWS × TOKENS} vector accumulators, each
 * loaded vector used {@code TOKENS} or {@code ROWS} times, so the batch is streamed once per panel rather than
 * once per weight row. Each output is summed like {@link VectorMath#dot} of the decoded row with the vector
 * (one accumulator per lane, a lane reduction, then the scalar tail).
 */
final class TiledMatMul {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Weight rows per micro-tile (parallel chunks are whole multiples of it). */
    static final int ROWS = 4;
    /** Activation rows per micro-tile (4 × 3 accumulators + 3 activation vectors + 1 weight vector = 16 registers). */
    private static final int TOKENS = 3;
    /** Decoded floats per panel: 128 KiB, a comfortable share of any L2. */
    private static final int PANEL_FLOATS = 32 * 1024;

    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[0]);

    private TiledMatMul() {
    }

    /**
     * {@code y[yo + t·stride + r] = w.row(firstRow + r) · x[xo + t·in ..]} for {@code t < n}, {@code r < rows},
     * where {@code in = w.rowLength()}. Arguments are checked by the caller.
     */
    static void rows(Tensor w, long firstRow, int rows, float[] x, int xo, int in, int n, float[] y, int yo,
                     int stride) {
        int panelRows = Math.max(ROWS, PANEL_FLOATS / Math.max(1, in) / ROWS * ROWS);
        for (int r0 = 0; r0 < rows; r0 += panelRows) {
            int count = Math.min(panelRows, rows - r0);
            float[] panel = PANEL.get();
            if (panel.length < count * in) {
                panel = new float[count * in];
                PANEL.set(panel);
            }
            for (int r = 0; r < count; r++) {
                w.dequantizeRow(firstRow + r0 + r, panel, r * in);
            }
            panelProduct(panel, count, in, x, xo, n, y, yo + r0, stride);
        }
    }

    /** The {@code rows} decoded rows of {@code panel} times the {@code n} vectors, into {@code y[yo + t·stride + r]}. */
    private static void panelProduct(float[] panel, int rows, int in, float[] x, int xo, int n, float[] y, int yo,
                                     int stride) {
        int t = 0;
        for (; t + TOKENS <= n; t += TOKENS) {
            int r = 0;
            for (; r + ROWS <= rows; r += ROWS) {
                tile4x3(panel, r * in, in, x, xo + t * in, y, yo + t * stride + r, stride);
            }
            for (; r < rows; r++) {
                for (int j = 0; j < TOKENS; j++) {
                    y[yo + (t + j) * stride + r] = VectorMath.dot(panel, r * in, x, xo + (t + j) * in, in);
                }
            }
        }
        for (; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                y[yo + t * stride + r] = VectorMath.dot(panel, r * in, x, xo + t * in, in);
            }
        }
    }

    /** Four weight rows (at {@code wo}, stride {@code in}) times three activation rows (at {@code xo}, stride {@code in}). */
    private static void tile4x3(float[] w, int wo, int in, float[] x, int xo, float[] y, int yo, int out) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00;
        int k = 0;
        int bound = S.loopBound(in);
        for (; k < bound; k += L) {
            FloatVector x0 = FloatVector.fromArray(S, x, xo + k);
            FloatVector x1 = FloatVector.fromArray(S, x, xo + in + k);
            FloatVector x2 = FloatVector.fromArray(S, x, xo + 2 * in + k);
            FloatVector w0 = FloatVector.fromArray(S, w, wo + k);
            a00 = w0.fma(x0, a00);
            a01 = w0.fma(x1, a01);
            a02 = w0.fma(x2, a02);
            FloatVector w1 = FloatVector.fromArray(S, w, wo + in + k);
            a10 = w1.fma(x0, a10);
            a11 = w1.fma(x1, a11);
            a12 = w1.fma(x2, a12);
            FloatVector w2 = FloatVector.fromArray(S, w, wo + 2 * in + k);
            a20 = w2.fma(x0, a20);
            a21 = w2.fma(x1, a21);
            a22 = w2.fma(x2, a22);
            FloatVector w3 = FloatVector.fromArray(S, w, wo + 3 * in + k);
            a30 = w3.fma(x0, a30);
            a31 = w3.fma(x1, a31);
            a32 = w3.fma(x2, a32);
        }
        // reduced one by one: collecting the accumulators in an array would box them
        y[yo] = finish(a00.reduceLanes(VectorOperators.ADD), w, wo, x, xo, k, in);
        y[yo + out] = finish(a01.reduceLanes(VectorOperators.ADD), w, wo, x, xo + in, k, in);
        y[yo + 2 * out] = finish(a02.reduceLanes(VectorOperators.ADD), w, wo, x, xo + 2 * in, k, in);
        y[yo + 1] = finish(a10.reduceLanes(VectorOperators.ADD), w, wo + in, x, xo, k, in);
        y[yo + out + 1] = finish(a11.reduceLanes(VectorOperators.ADD), w, wo + in, x, xo + in, k, in);
        y[yo + 2 * out + 1] = finish(a12.reduceLanes(VectorOperators.ADD), w, wo + in, x, xo + 2 * in, k, in);
        y[yo + 2] = finish(a20.reduceLanes(VectorOperators.ADD), w, wo + 2 * in, x, xo, k, in);
        y[yo + out + 2] = finish(a21.reduceLanes(VectorOperators.ADD), w, wo + 2 * in, x, xo + in, k, in);
        y[yo + 2 * out + 2] = finish(a22.reduceLanes(VectorOperators.ADD), w, wo + 2 * in, x, xo + 2 * in, k, in);
        y[yo + 3] = finish(a30.reduceLanes(VectorOperators.ADD), w, wo + 3 * in, x, xo, k, in);
        y[yo + out + 3] = finish(a31.reduceLanes(VectorOperators.ADD), w, wo + 3 * in, x, xo + in, k, in);
        y[yo + 2 * out + 3] = finish(a32.reduceLanes(VectorOperators.ADD), w, wo + 3 * in, x, xo + 2 * in, k, in);
    }

    /** {@code sum} plus the scalar tail {@code k .. in} of one row-by-token product. */
    private static float finish(float sum, float[] w, int wo, float[] x, int xo, int k, int in) {
        for (; k < in; k++) {
            sum += w[wo + k] * x[xo + k];
        }
        return sum;
    }
}
