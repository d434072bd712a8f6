package org.llama4j.kernel;

import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.llama4j.tensor.Tensor;

/**
 * {@code Y = X·Wᵀ (+ bias)} for a large batch of activation rows and a weight stored one row per output
 * ({@code nn.Linear}): the cache-blocked product behind the vision encoder, where a tile's hundreds of tokens go
 * through every weight together.
 *
 * <p>The output rows are cut into panels that fit in L2 once decoded to float; threads take panels, so every
 * weight row is decoded exactly once per product. Inside a panel, blocks of {@value #TOKENS} activation rows
 * (small enough for L1) are multiplied with groups of {@value #ROWS} weight rows: {@code ROWS × TOKENS} vector
 * accumulators, each loaded vector used {@code TOKENS} or {@code ROWS} times. Unlike
 * {@link LinearMap#applyBatch}, which re-reads the whole batch for every weight row, the batch is streamed once
 * per panel.
 */
public final class BatchedMatMul {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Weight rows per micro-tile. */
    private static final int ROWS = 4;
    /** Activation rows per micro-tile (4 × 3 accumulators + 3 activation vectors + 1 weight vector = 16 registers). */
    private static final int TOKENS = 3;
    /** Decoded floats per panel: 128 KiB, a comfortable share of any L2. */
    private static final int PANEL_FLOATS = 32 * 1024;
    /** Below this many multiply-adds a product stays on the calling thread. */
    private static final long PARALLEL_WORK = 1L << 18;

    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[0]);

    private BatchedMatMul() {
    }

    /**
     * {@code y[t·out + r] = w.row(r) · x[t·in ..] + bias[r]} for {@code t < n}, {@code r < out}, where
     * {@code in = w.rowLength()}, {@code out = w.rowCount()} and {@code bias} may be null.
     */
    public static void multiply(Tensor w, float[] bias, float[] x, int n, float[] y) {
        int in = Math.toIntExact(w.rowLength());
        int out = Math.toIntExact(w.rowCount());
        if (n < 0 || x.length < (long) n * in || y.length < (long) n * out) {
            throw new IllegalArgumentException("tensor " + w.name() + " [" + in + " x " + out + "]: " + n
                    + " rows need " + (long) n * in + " inputs and " + (long) n * out + " outputs, got " + x.length
                    + " and " + y.length);
        }
        if (bias != null && bias.length != out) {
            throw new IllegalArgumentException("tensor " + w.name() + ": bias of " + bias.length + ", expected " + out);
        }
        int panelRows = Math.max(ROWS, PANEL_FLOATS / Math.max(1, in) / ROWS * ROWS);
        int panels = (out + panelRows - 1) / panelRows;
        IntStream range = IntStream.range(0, panels);
        if ((long) n * in * out >= PARALLEL_WORK && panels > 1) {
            range = range.parallel();
        }
        range.forEach(p -> {
            int r0 = p * panelRows;
            int rows = Math.min(panelRows, out - r0);
            float[] panel = PANEL.get();
            if (panel.length < rows * in) {
                panel = new float[rows * in];
                PANEL.set(panel);
            }
            for (int r = 0; r < rows; r++) {
                w.dequantizeRow(r0 + r, panel, r * in);
            }
            panelProduct(panel, rows, r0, in, out, bias, x, n, y);
        });
    }

    private static void panelProduct(float[] panel, int rows, int r0, int in, int out, float[] bias, float[] x, int n,
                                     float[] y) {
        int t = 0;
        for (; t + TOKENS <= n; t += TOKENS) {
            int r = 0;
            for (; r + ROWS <= rows; r += ROWS) {
                tile4x3(panel, r * in, in, x, t * in, y, t * out + r0 + r, out, bias, r0 + r);
            }
            for (; r < rows; r++) {
                for (int j = 0; j < TOKENS; j++) {
                    y[(t + j) * out + r0 + r] = dot(panel, r * in, x, (t + j) * in, in) + biasAt(bias, r0 + r);
                }
            }
        }
        for (; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                y[t * out + r0 + r] = dot(panel, r * in, x, t * in, in) + biasAt(bias, r0 + r);
            }
        }
    }

    private static float biasAt(float[] bias, int r) {
        return bias == null ? 0f : bias[r];
    }

    /** Four weight rows (at {@code wo}, stride {@code in}) times three activation rows (at {@code xo}, stride {@code in}). */
    private static void tile4x3(float[] w, int wo, int in, float[] x, int xo, float[] y, int yo, int out, float[] bias,
                                int biasRow) {
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
        y[yo] = finish(a00.reduceLanes(VectorOperators.ADD), w, wo, x, xo, k, in) + biasAt(bias, biasRow);
        y[yo + out] = finish(a01.reduceLanes(VectorOperators.ADD), w, wo, x, xo + in, k, in) + biasAt(bias, biasRow);
        y[yo + 2 * out] = finish(a02.reduceLanes(VectorOperators.ADD), w, wo, x, xo + 2 * in, k, in)
                + biasAt(bias, biasRow);
        y[yo + 1] = finish(a10.reduceLanes(VectorOperators.ADD), w, wo + in, x, xo, k, in) + biasAt(bias, biasRow + 1);
        y[yo + out + 1] = finish(a11.reduceLanes(VectorOperators.ADD), w, wo + in, x, xo + in, k, in)
                + biasAt(bias, biasRow + 1);
        y[yo + 2 * out + 1] = finish(a12.reduceLanes(VectorOperators.ADD), w, wo + in, x, xo + 2 * in, k, in)
                + biasAt(bias, biasRow + 1);
        y[yo + 2] = finish(a20.reduceLanes(VectorOperators.ADD), w, wo + 2 * in, x, xo, k, in)
                + biasAt(bias, biasRow + 2);
        y[yo + out + 2] = finish(a21.reduceLanes(VectorOperators.ADD), w, wo + 2 * in, x, xo + in, k, in)
                + biasAt(bias, biasRow + 2);
        y[yo + 2 * out + 2] = finish(a22.reduceLanes(VectorOperators.ADD), w, wo + 2 * in, x, xo + 2 * in, k, in)
                + biasAt(bias, biasRow + 2);
        y[yo + 3] = finish(a30.reduceLanes(VectorOperators.ADD), w, wo + 3 * in, x, xo, k, in)
                + biasAt(bias, biasRow + 3);
        y[yo + out + 3] = finish(a31.reduceLanes(VectorOperators.ADD), w, wo + 3 * in, x, xo + in, k, in)
                + biasAt(bias, biasRow + 3);
        y[yo + 2 * out + 3] = finish(a32.reduceLanes(VectorOperators.ADD), w, wo + 3 * in, x, xo + 2 * in, k, in)
                + biasAt(bias, biasRow + 3);
    }

    /** {@code sum} plus the scalar tail {@code k .. in} of one row-by-token product. */
    private static float finish(float sum, float[] w, int wo, float[] x, int xo, int k, int in) {
        for (; k < in; k++) {
            sum += w[wo + k] * x[xo + k];
        }
        return sum;
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int n) {
        return VectorMath.dot(a, ao, b, bo, n);
    }
}
