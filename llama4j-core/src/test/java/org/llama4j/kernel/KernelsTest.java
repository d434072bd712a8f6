package org.llama4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.llama4j.tensor.BlockCodec;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.InterleavedQ4Tensor;
import org.llama4j.tensor.Q8Activations;

/** The matrix drivers against per-row scalar references, on a runner of 3 threads (parallel paths taken). */
class KernelsTest {
    private static final ParallelRunner RUNNER = new ParallelRunner(3);
    private static final int COLS = 256;
    private static final int ROWS = 300; // 76800 weights: above the parallel threshold

    @AfterAll
    static void close() {
        RUNNER.close();
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static float referenceRow(BlockTensor w, int row, float[] xs, int xOffset) {
        return BlockCodec.referenceDot(w.codec(), w.data(), row * w.rowBytes(), xs, xOffset, COLS);
    }

    private static double magnitude(BlockTensor w, int row, float[] xs, int xOffset) {
        float[] decoded = new float[COLS];
        w.dequantizeRow(row, decoded, 0);
        double m = 0;
        for (int i = 0; i < COLS; i++) {
            m += Math.abs((double) decoded[i] * xs[xOffset + i]);
        }
        return m;
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "IQ4_XS"})
    void exactMatvecAndMatmulMatchScalarReference(GgmlType type) {
        Random rnd = new Random(type.ordinal());
        BlockTensor w = BlockTensor.quantize("w", type, gaussian(rnd, COLS * ROWS), COLS, ROWS);
        for (int batch : new int[] {1, 3}) {
            float[] xs = gaussian(rnd, COLS * batch);
            float[] out = new float[ROWS * batch];
            Kernels.matmul(RUNNER, w, xs, batch, out, KernelMode.EXACT);
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < ROWS; r++) {
                    float expected = referenceRow(w, r, xs, b * COLS);
                    assertTrue(Math.abs(out[b * ROWS + r] - expected) <= 1e-5 * magnitude(w, r, xs, b * COLS),
                            type + " batch " + batch + " row " + r + ": " + out[b * ROWS + r] + " vs " + expected);
                }
            }
        }
    }

    /** Both sides of the switch from fused per-token dots to panels, wherever a type puts it. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void exactBatchesOnEitherSideOfThePanelCrossoverMatchScalarReference(GgmlType type) {
        Random rnd = new Random(100 + type.ordinal());
        BlockTensor w = BlockTensor.quantize("w", type, gaussian(rnd, COLS * ROWS), COLS, ROWS);
        int panels = Kernels.smallestPanelBatch(w);
        for (int batch : new int[] {panels - 1, panels}) {
            if (batch < 1) {
                continue;
            }
            float[] xs = gaussian(rnd, 3 + COLS * batch);
            float[] out = new float[5 + ROWS * batch];
            Kernels.matmul(RUNNER, w, 0, ROWS, xs, 3, batch, out, 5, KernelMode.EXACT);
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < ROWS; r++) {
                    float expected = referenceRow(w, r, xs, 3 + b * COLS);
                    assertTrue(Math.abs(out[5 + b * ROWS + r] - expected) <= 1e-5 * magnitude(w, r, xs, 3 + b * COLS),
                            type + " batch " + batch + " row " + r + ": " + out[5 + b * ROWS + r] + " vs " + expected);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_1", "Q5_0", "Q2_K", "Q3_K", "Q5_K", "IQ4_NL", "BF16"})
    void q8MatmulIsTheQ8RowKernelForEveryRowAndVectorOrExactForFloats(GgmlType type) {
        Random rnd = new Random(100 + type.ordinal());
        BlockTensor w = BlockTensor.quantize("w", type, gaussian(rnd, COLS * ROWS), COLS, ROWS);
        int batch = 2;
        float[] xs = gaussian(rnd, COLS * batch);
        float[] out = new float[ROWS * batch];
        Kernels.matmul(RUNNER, w, xs, batch, out, KernelMode.Q8_ACTIVATIONS);
        Q8Activations x8 = Q8Activations.quantize(xs, 0, COLS, batch);
        float[] expected = new float[ROWS * batch];
        Q8Activations.Scratch scratch = new Q8Activations.Scratch(COLS);
        if (type == GgmlType.BF16) {
            // float weights have no integer codes: Q8_ACTIVATIONS is the exact product for them
            Kernels.matmul(RUNNER, w, xs, batch, expected, KernelMode.EXACT);
        } else {
            for (int r = 0; r < ROWS; r++) {
                x8.dotRow(w, r, scratch, expected, r, ROWS);
            }
        }
        for (int i = 0; i < out.length; i++) {
            int b = i / ROWS;
            int r = i % ROWS;
            // the same kernel: equal up to the rounding of lane reductions, which differs between JIT tiers
            assertEquals(expected[i], out[i], 1e-6 * magnitude(w, r, xs, b * COLS), type + " output " + i);
            // and close to the exact product (the tight bound is tested in SimdKernelTest)
            assertTrue(Math.abs(out[i] - referenceRow(w, r, xs, b * COLS)) <= 0.02 * magnitude(w, r, xs, b * COLS));
        }
    }

    /**
     * Interleaved Q4_0: with 8-bit activations, whole groups of rows (parallel, and a range starting past the first
     * group) take the interleaved integer kernel, which computes the Q8 row kernel's integers; exact products and
     * ranges that are not whole groups are the original tensor's, bit for bit.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_K"})
    void interleavedQ4TakesItsIntegerKernelForQ8AndIsTheOriginalOtherwise(GgmlType type) {
        Random rnd = new Random(7);
        int rows = 304; // 19 groups of 16, above the parallel threshold
        BlockTensor w = BlockTensor.quantize("w", type, gaussian(rnd, COLS * rows), COLS, rows);
        int batch = 3;
        float[] xs = gaussian(rnd, COLS * batch);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            InterleavedQ4Tensor packed = InterleavedQ4Tensor.interleave(w, arena);
            Q8Activations x8 = Q8Activations.quantize(xs, 0, COLS, batch);
            Q8Activations.Scratch scratch = new Q8Activations.Scratch(COLS);
            for (int[] range : new int[][] {{0, rows}, {32, 256}, {8, 64}}) {
                int first = range[0];
                int n = range[1];
                float[] q8 = new float[n * batch];
                Kernels.matmul(RUNNER, packed, first, n, xs, 0, batch, q8, 0, KernelMode.Q8_ACTIVATIONS);
                float[] rowKernel = new float[n * batch];
                for (int r = 0; r < n; r++) {
                    x8.dotRow(w, first + r, scratch, rowKernel, r, n);
                }
                for (int i = 0; i < q8.length; i++) {
                    int r = first + i % n;
                    double scale = magnitude(w, r, xs, i / n * COLS);
                    assertTrue(Math.abs(q8[i] - rowKernel[i]) <= 1e-5 * scale, "rows " + first + "+" + n + " output "
                            + i + ": " + q8[i] + " vs " + rowKernel[i]);
                    if (first % InterleavedQ4Tensor.ROWS != 0) {
                        // the original's Q8 row kernel, up to the JIT tier's rounding of lane reductions
                        assertEquals(rowKernel[i], q8[i], 1e-6 * scale, "a range of partial groups: output " + i);
                    }
                }
                float[] exact = new float[n * batch];
                float[] original = new float[n * batch];
                Kernels.matmul(RUNNER, packed, first, n, xs, 0, batch, exact, 0, KernelMode.EXACT);
                Kernels.matmul(RUNNER, w, first, n, xs, 0, batch, original, 0, KernelMode.EXACT);
                for (int i = 0; i < exact.length; i++) {
                    // the original's exact kernel (8-bit activations would be ~1e-3 away)
                    assertEquals(original[i], exact[i], 1e-6 * magnitude(w, first + i % n, xs, i / n * COLS),
                            "exact output " + i);
                }
            }
        }
    }

    /**
     * {@link KernelMode#AUTO} computes each product as one of the two other modes: interleaved Q4_0 up to
     * {@link Kernels#INTERLEAVED_AUTO_MAX_BATCH} vectors as {@code Q8_ACTIVATIONS}, larger batches and every other
     * tensor as {@code EXACT}.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_K"})
    void autoIsTheIntegerKernelForSmallInterleavedBatchesAndExactOtherwise(GgmlType type) {
        Random rnd = new Random(8);
        int rows = 64;
        BlockTensor q4 = BlockTensor.quantize("q4", type, gaussian(rnd, COLS * rows), COLS, rows);
        BlockTensor q8 = BlockTensor.quantize("q8", GgmlType.Q8_0, gaussian(rnd, COLS * rows), COLS, rows);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            InterleavedQ4Tensor packed = InterleavedQ4Tensor.interleave(q4, arena);
            int largest = Kernels.INTERLEAVED_AUTO_MAX_BATCH;
            for (int batch : new int[] {1, largest, largest + 1}) {
                float[] xs = gaussian(rnd, COLS * batch);
                KernelMode expectedMode = batch <= largest ? KernelMode.Q8_ACTIVATIONS : KernelMode.EXACT;
                assertSameProduct(packed, xs, batch, KernelMode.AUTO, expectedMode, type + " interleaved batch " + batch);
                assertSameProduct(q4, xs, batch, KernelMode.AUTO, KernelMode.EXACT, "plain " + type + " batch " + batch);
                assertSameProduct(q8, xs, batch, KernelMode.AUTO, KernelMode.EXACT, "Q8_0 batch " + batch);
            }
        }
    }

    /** {@code w} in {@code mode} equals {@code w} in {@code expected} (up to JIT rounding), and not the other mode. */
    private static void assertSameProduct(org.llama4j.tensor.Tensor w, float[] xs, int batch, KernelMode mode,
            KernelMode expected, String what) {
        int rows = Math.toIntExact(w.rowCount());
        float[] got = new float[rows * batch];
        float[] want = new float[rows * batch];
        float[] other = new float[rows * batch];
        Kernels.matmul(RUNNER, w, xs, batch, got, mode);
        Kernels.matmul(RUNNER, w, xs, batch, want, expected);
        Kernels.matmul(RUNNER, w, xs, batch, other,
                expected == KernelMode.EXACT ? KernelMode.Q8_ACTIVATIONS : KernelMode.EXACT);
        double furthestFromOther = 0;
        for (int i = 0; i < got.length; i++) {
            assertEquals(want[i], got[i], 1e-6 * (Math.abs(want[i]) + 1), what + " output " + i);
            furthestFromOther = Math.max(furthestFromOther, Math.abs(got[i] - other[i]));
        }
        assertTrue(furthestFromOther > 1e-4, what + ": the two modes must differ for this check to mean anything");
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "BF16", "Q8_0", "Q4_K"})
    void inputMajorProductAccumulatesRowsInOrder(GgmlType type) {
        Random rnd = new Random(200 + type.ordinal());
        int inputs = 64;
        int width = 2048; // 131072 weights: parallel over column blocks
        BlockTensor w = BlockTensor.quantize("w", type, gaussian(rnd, inputs * width), width, inputs);
        float[] x = gaussian(rnd, inputs);
        float[] out = gaussian(rnd, width);
        double[] expected = new double[width];
        double[] magnitude = new double[width];
        float[] row = new float[width];
        for (int j = 0; j < width; j++) {
            expected[j] = out[j];
            magnitude[j] = Math.abs(out[j]);
        }
        for (int i = 0; i < inputs; i++) {
            w.dequantizeRow(i, row, 0);
            for (int j = 0; j < width; j++) {
                expected[j] += (double) x[i] * row[j];
                magnitude[j] += Math.abs((double) x[i] * row[j]);
            }
        }
        Kernels.addInputMajor(RUNNER, w, 0, inputs, x, 0, 1, out, 0);
        for (int j = 0; j < width; j++) {
            assertTrue(Math.abs(out[j] - expected[j]) <= 1e-5 * magnitude[j], type + " column " + j);
        }
    }

    @Test
    void rowRangesOffsetsAndBatchesOfBothLayouts() {
        Random rnd = new Random(7);
        int inputs = 64;
        int width = 1024;
        BlockTensor stacked = BlockTensor.quantize("experts", GgmlType.Q8_0, gaussian(rnd, 3 * inputs * width), width,
                3 * inputs);
        int batch = 3;
        float[] x = gaussian(rnd, 5 + batch * inputs);
        for (int i = 0; i < inputs; i++) {
            x[5 + inputs + i] = 0f; // the second vector is not routed here
        }
        float[] out = new float[2 + batch * width];
        Kernels.addInputMajor(RUNNER, stacked, inputs, inputs, x, 5, batch, out, 2);
        float[] row = new float[width];
        for (int b = 0; b < batch; b++) {
            double[] expected = new double[width];
            double[] magnitude = new double[width];
            for (int i = 0; i < inputs; i++) {
                stacked.dequantizeRow(inputs + i, row, 0);
                for (int j = 0; j < width; j++) {
                    expected[j] += (double) x[5 + b * inputs + i] * row[j];
                    magnitude[j] += Math.abs((double) x[5 + b * inputs + i] * row[j]);
                }
            }
            for (int j = 0; j < width; j++) {
                assertTrue(Math.abs(out[2 + b * width + j] - expected[j]) <= 1e-5 * magnitude[j] + 1e-30,
                        "vector " + b + " column " + j);
            }
        }
        assertEquals(0f, out[0]);
        assertEquals(0f, out[1]);

        // output-major over a row range of a stacked tensor, with offsets
        float[] xs = gaussian(rnd, 3 + 2 * width);
        float[] y = new float[1 + 2 * 40];
        Kernels.matmul(RUNNER, stacked, 100, 40, xs, 3, 2, y, 1, KernelMode.EXACT);
        for (int b = 0; b < 2; b++) {
            for (int r = 0; r < 40; r++) {
                assertEquals(stacked.dotRow(100 + r, xs, 3 + b * width), y[1 + b * 40 + r],
                        1e-5f * (1 + Math.abs(y[1 + b * 40 + r])) * 40, "row " + r);
            }
        }
    }

    @Test
    void shapeMismatchesAreRejected() {
        BlockTensor w = BlockTensor.ofFloats("w", new float[COLS * 4], COLS, 4);
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.matmul(RUNNER, w, new float[COLS], 2, new float[8], KernelMode.EXACT));
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.matvec(w, new float[COLS], new float[3], KernelMode.EXACT));
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.addInputMajor(RUNNER, w, 0, 4, new float[3], 0, 1, new float[COLS], 0));
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.matmul(RUNNER, w, 2, 3, new float[COLS], 0, 1, new float[3], 0, KernelMode.EXACT));
    }
}
