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
 * exactly once per product. A panel is multiplied with blocks of {@value #TOKENS} activation vectors, and the
 * columns are cut into chunks of {@value #CHUNK} so that the block's part of the activations (24 KiB) stays in
 * L1 while the panel's rows stream past from L2. The micro-tile is {@value #ROWS} weight rows × {@value #TOKENS}
 * vectors: 24 vector accumulators, the 4 weight vectors of a column step and one activation vector fill 29 of
 * AVX-512's 32 registers, and each weight vector read from L2 feeds {@value #TOKENS} FMAs. The accumulators of a
 * tile live in a small scratch array between column chunks; each output is their lane sum plus the scalar tail
 * of the columns, like {@link VectorMath#dot} of the decoded row with the vector.
 *
 * <p>Tails are clamped rather than given their own kernels: a tile with fewer than {@value #ROWS} rows or
 * {@value #TOKENS} vectors left repeats its last row or vector and keeps only the real outputs.
 */
final class TiledMatMul {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Weight rows per micro-tile (parallel chunks are whole multiples of it). */
    static final int ROWS = 4;
    /** Activation vectors per micro-tile. */
    private static final int TOKENS = 6;
    /** Accumulators of one micro-tile, stored tile row by tile row. */
    private static final int TILE = ROWS * TOKENS;
    /** Columns per chunk: {@value #TOKENS} × 1024 floats of activations = 24 KiB, half of a 48 KiB L1. */
    private static final int CHUNK = 1024;
    /** Decoded floats per panel: 512 KiB, a quarter of a 2 MiB L2 (the activations stream through the rest). */
    private static final int PANEL_FLOATS = 128 * 1024;
    /**
     * Fewest rows per panel, whatever the row length: every panel streams all activations once, so a panel of a
     * few long rows would read the batch from L3 more often than it reads its weights from L2.
     */
    private static final int MIN_PANEL_ROWS = 16;

    /** Per-thread scratch: the decoded panel and the tile accumulators between column chunks. */
    private static final class Scratch {
        float[] panel = new float[0];
        float[] partial = new float[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private TiledMatMul() {
    }

    /**
     * {@code y[yo + t·stride + r] = w.row(firstRow + r) · x[xo + t·in ..]} for {@code t < n}, {@code r < rows},
     * where {@code in = w.rowLength()}. Arguments are checked by the caller.
     */
    static void rows(Tensor w, long firstRow, int rows, float[] x, int xo, int in, int n, float[] y, int yo,
                     int stride) {
        int panelRows = Math.max(MIN_PANEL_ROWS, PANEL_FLOATS / Math.max(1, in) / ROWS * ROWS);
        Scratch scratch = SCRATCH.get();
        int panelCapacity = Math.min(panelRows, rows);
        if (scratch.panel.length < panelCapacity * in) {
            scratch.panel = new float[panelCapacity * in];
        }
        int partialFloats = (panelCapacity + ROWS - 1) / ROWS * TILE * L;
        if (scratch.partial.length < partialFloats) {
            scratch.partial = new float[partialFloats];
        }
        for (int r0 = 0; r0 < rows; r0 += panelRows) {
            int count = Math.min(panelRows, rows - r0);
            for (int r = 0; r < count; r++) {
                w.dequantizeRow(firstRow + r0 + r, scratch.panel, r * in);
            }
            for (int t = 0; t < n; t += TOKENS) {
                panelTimesBlock(scratch, count, in, x, xo + t * in, Math.min(TOKENS, n - t), y, yo + t * stride + r0,
                        stride);
            }
        }
    }

    /**
     * The {@code rows} decoded rows of the panel times the {@code tokens} (at most {@value #TOKENS}) vectors at
     * {@code x[xo ..]}, into {@code y[yo + j·stride + r]}: column chunk by column chunk, every tile of the panel
     * against the block's chunk of activations, then each output's lane sum and scalar column tail.
     */
    private static void panelTimesBlock(Scratch scratch, int rows, int in, float[] x, int xo, int tokens, float[] y,
                                        int yo, int stride) {
        float[] panel = scratch.panel;
        float[] partial = scratch.partial;
        int bound = S.loopBound(in);
        for (int k0 = 0; k0 < bound; k0 += CHUNK) {
            int k1 = Math.min(bound, k0 + CHUNK);
            for (int r = 0; r < rows; r += ROWS) {
                tile(panel, r * in, Math.min(ROWS, rows - r), in, x, xo, tokens, k0, k1, partial, r / ROWS * TILE * L);
            }
        }
        for (int r = 0; r < rows; r++) {
            int wo = r * in;
            for (int j = 0; j < tokens; j++) {
                int xj = xo + j * in;
                float sum = bound == 0 ? 0f
                        : FloatVector.fromArray(S, partial, (r / ROWS * TILE + r % ROWS * TOKENS + j) * L)
                                .reduceLanes(VectorOperators.ADD);
                for (int k = bound; k < in; k++) {
                    sum += panel[wo + k] * x[xj + k];
                }
                y[yo + j * stride + r] = sum;
            }
        }
    }

    /**
     * Columns {@code k0 .. k1} (whole vectors) of one micro-tile: {@code rows} (1 to {@value #ROWS}) weight rows
     * at {@code w[wo ..]} times {@code tokens} (1 to {@value #TOKENS}) activation vectors at {@code x[xo ..]},
     * both of stride {@code in}, added to the tile's accumulators at {@code partial[po ..]} (started at zero on
     * the first chunk). Missing rows and vectors repeat the last real one; their accumulators are never read.
     */
    private static void tile(float[] w, int wo, int rows, int in, float[] x, int xo, int tokens, int k0, int k1,
                             float[] partial, int po) {
        int w0 = wo, w1 = wo + Math.min(1, rows - 1) * in, w2 = wo + Math.min(2, rows - 1) * in;
        int w3 = wo + Math.min(3, rows - 1) * in;
        int x0 = xo, x1 = xo + Math.min(1, tokens - 1) * in, x2 = xo + Math.min(2, tokens - 1) * in;
        int x3 = xo + Math.min(3, tokens - 1) * in, x4 = xo + Math.min(4, tokens - 1) * in;
        int x5 = xo + Math.min(5, tokens - 1) * in;
        FloatVector a00, a01, a02, a03, a04, a05, a10, a11, a12, a13, a14, a15;
        FloatVector a20, a21, a22, a23, a24, a25, a30, a31, a32, a33, a34, a35;
        if (k0 == 0) {
            a00 = FloatVector.zero(S);
            a01 = a02 = a03 = a04 = a05 = a10 = a11 = a12 = a13 = a14 = a15 = a00;
            a20 = a21 = a22 = a23 = a24 = a25 = a30 = a31 = a32 = a33 = a34 = a35 = a00;
        } else {
            a00 = FloatVector.fromArray(S, partial, po);
            a01 = FloatVector.fromArray(S, partial, po + L);
            a02 = FloatVector.fromArray(S, partial, po + 2 * L);
            a03 = FloatVector.fromArray(S, partial, po + 3 * L);
            a04 = FloatVector.fromArray(S, partial, po + 4 * L);
            a05 = FloatVector.fromArray(S, partial, po + 5 * L);
            a10 = FloatVector.fromArray(S, partial, po + 6 * L);
            a11 = FloatVector.fromArray(S, partial, po + 7 * L);
            a12 = FloatVector.fromArray(S, partial, po + 8 * L);
            a13 = FloatVector.fromArray(S, partial, po + 9 * L);
            a14 = FloatVector.fromArray(S, partial, po + 10 * L);
            a15 = FloatVector.fromArray(S, partial, po + 11 * L);
            a20 = FloatVector.fromArray(S, partial, po + 12 * L);
            a21 = FloatVector.fromArray(S, partial, po + 13 * L);
            a22 = FloatVector.fromArray(S, partial, po + 14 * L);
            a23 = FloatVector.fromArray(S, partial, po + 15 * L);
            a24 = FloatVector.fromArray(S, partial, po + 16 * L);
            a25 = FloatVector.fromArray(S, partial, po + 17 * L);
            a30 = FloatVector.fromArray(S, partial, po + 18 * L);
            a31 = FloatVector.fromArray(S, partial, po + 19 * L);
            a32 = FloatVector.fromArray(S, partial, po + 20 * L);
            a33 = FloatVector.fromArray(S, partial, po + 21 * L);
            a34 = FloatVector.fromArray(S, partial, po + 22 * L);
            a35 = FloatVector.fromArray(S, partial, po + 23 * L);
        }
        for (int k = k0; k < k1; k += L) {
            FloatVector v0 = FloatVector.fromArray(S, w, w0 + k);
            FloatVector v1 = FloatVector.fromArray(S, w, w1 + k);
            FloatVector v2 = FloatVector.fromArray(S, w, w2 + k);
            FloatVector v3 = FloatVector.fromArray(S, w, w3 + k);
            FloatVector u = FloatVector.fromArray(S, x, x0 + k);
            a00 = v0.fma(u, a00);
            a10 = v1.fma(u, a10);
            a20 = v2.fma(u, a20);
            a30 = v3.fma(u, a30);
            u = FloatVector.fromArray(S, x, x1 + k);
            a01 = v0.fma(u, a01);
            a11 = v1.fma(u, a11);
            a21 = v2.fma(u, a21);
            a31 = v3.fma(u, a31);
            u = FloatVector.fromArray(S, x, x2 + k);
            a02 = v0.fma(u, a02);
            a12 = v1.fma(u, a12);
            a22 = v2.fma(u, a22);
            a32 = v3.fma(u, a32);
            u = FloatVector.fromArray(S, x, x3 + k);
            a03 = v0.fma(u, a03);
            a13 = v1.fma(u, a13);
            a23 = v2.fma(u, a23);
            a33 = v3.fma(u, a33);
            u = FloatVector.fromArray(S, x, x4 + k);
            a04 = v0.fma(u, a04);
            a14 = v1.fma(u, a14);
            a24 = v2.fma(u, a24);
            a34 = v3.fma(u, a34);
            u = FloatVector.fromArray(S, x, x5 + k);
            a05 = v0.fma(u, a05);
            a15 = v1.fma(u, a15);
            a25 = v2.fma(u, a25);
            a35 = v3.fma(u, a35);
        }
        // stored one by one: collecting the accumulators in an array would box them
        a00.intoArray(partial, po);
        a01.intoArray(partial, po + L);
        a02.intoArray(partial, po + 2 * L);
        a03.intoArray(partial, po + 3 * L);
        a04.intoArray(partial, po + 4 * L);
        a05.intoArray(partial, po + 5 * L);
        a10.intoArray(partial, po + 6 * L);
        a11.intoArray(partial, po + 7 * L);
        a12.intoArray(partial, po + 8 * L);
        a13.intoArray(partial, po + 9 * L);
        a14.intoArray(partial, po + 10 * L);
        a15.intoArray(partial, po + 11 * L);
        a20.intoArray(partial, po + 12 * L);
        a21.intoArray(partial, po + 13 * L);
        a22.intoArray(partial, po + 14 * L);
        a23.intoArray(partial, po + 15 * L);
        a24.intoArray(partial, po + 16 * L);
        a25.intoArray(partial, po + 17 * L);
        a30.intoArray(partial, po + 18 * L);
        a31.intoArray(partial, po + 19 * L);
        a32.intoArray(partial, po + 20 * L);
        a33.intoArray(partial, po + 21 * L);
        a34.intoArray(partial, po + 22 * L);
        a35.intoArray(partial, po + 23 * L);
    }
}
