package org.llama4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Self-contained quantizer tests (no fixtures): error bounds on Gaussian data, edge cases, BlockTensor round trips. */
class QuantizerTest {
    /**
     * Upper bounds of the relative rmse on N(0,1) data, a little above what the quantizers achieve (measured values in
     * the comments; llama.cpp's quantizers on real weights: Q8_0 0.54%, Q6_K 1.8%, Q5 3.6-4.3%, Q4 7.1-8.6%,
     * IQ4 7.6%, Q3_K 15%, Q2_K 30%).
     */
    private static final Map<GgmlType, Double> GAUSSIAN_BOUNDS = Map.ofEntries(
            Map.entry(GgmlType.Q8_0, 0.0055),
            Map.entry(GgmlType.Q6_K, 0.019),
            Map.entry(GgmlType.Q5_0, 0.045),
            Map.entry(GgmlType.Q5_1, 0.038),
            Map.entry(GgmlType.Q5_K, 0.038),
            Map.entry(GgmlType.Q4_0, 0.088),
            Map.entry(GgmlType.Q4_1, 0.078),
            Map.entry(GgmlType.Q4_K, 0.078),
            Map.entry(GgmlType.IQ4_NL, 0.08),
            Map.entry(GgmlType.IQ4_XS, 0.08),
            Map.entry(GgmlType.Q3_K, 0.155),
            Map.entry(GgmlType.Q2_K, 0.29));

    static Stream<GgmlType> quantTypes() {
        return GAUSSIAN_BOUNDS.keySet().stream().sorted();
    }

    static Stream<GgmlType> supportedTypes() {
        return Stream.of(GgmlType.values()).filter(GgmlType::supported);
    }

    private static float[] gaussian(long seed, int n, double sigma) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return x;
    }

    @ParameterizedTest
    @MethodSource("quantTypes")
    void gaussianErrorWithinBound(GgmlType type) {
        float[] x = gaussian(42, 64 * 256, 1.0);
        double error = QuantErrors.relativeRmse(x, QuantErrors.roundTrip(x, type));
        System.out.printf("%-7s gaussian relative rmse %.5f%n", type, error);
        assertTrue(error <= GAUSSIAN_BOUNDS.get(type), type + ": relative rmse " + error);
        // the error is relative: scaling the data by a power of two changes nothing while every fp16 scale stays
        // a normal number (tiny data, e.g. sigma 1e-3 with Q6_K, gets subnormal scales and loses precision)
        float[] scaled = x.clone();
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] *= 8f;
        }
        assertEquals(error, QuantErrors.relativeRmse(scaled, QuantErrors.roundTrip(scaled, type)), error * 1e-3);
    }

    @ParameterizedTest
    @MethodSource("supportedTypes")
    void everySupportedTypeRoundTripsThroughBlockTensor(GgmlType type) {
        int rowLength = 512;
        int rows = 3;
        float[] x = gaussian(7, rowLength * rows, 0.02);
        BlockTensor t = BlockTensor.quantize("w", type, x, rowLength, rows);
        assertEquals(type.byteSize(x.length), t.byteSize());
        float[] decoded = t.toFloatArray();
        // row by row decoding equals decoding the whole encoded segment
        assertArrayEquals(QuantErrors.roundTrip(x, type), decoded);
        double bound = GAUSSIAN_BOUNDS.getOrDefault(type, type == GgmlType.F32 ? 0.0 : 0.004);
        assertTrue(QuantErrors.relativeRmse(x, decoded) <= bound, type + " error " + QuantErrors.relativeRmse(x, decoded));
        // re-encoding decoded values must not move them much further (the encoding is stable)
        float[] again = BlockTensor.quantize("w2", type, decoded, rowLength, rows).toFloatArray();
        assertTrue(QuantErrors.relativeRmse(decoded, again) <= bound, type + " re-encoding drifts");

        float[] v = gaussian(8, rowLength, 1.0);
        for (int r = 0; r < rows; r++) {
            float expected = 0f;
            for (int i = 0; i < rowLength; i++) {
                expected += decoded[r * rowLength + i] * v[i];
            }
            assertEquals(expected, t.dotRow(r, v, 0), Math.abs(expected) * 1e-5 + 1e-6, type + " dot of row " + r);
        }
    }

    @ParameterizedTest
    @MethodSource("quantTypes")
    void edgeCaseBlocksStayValid(GgmlType type) {
        int n = 2 * 256;
        float[][] inputs = {
            new float[n], // all zero
            filled(n, 3.25f), // constant
            filled(n, -1e-7f), // below fp16's normal range
            filled(n, 1e9f), // beyond fp16's range
            spike(n, 1000f), // one outlier
            spike(n, -1000f),
            gaussian(3, n, 1e-3),
            gaussian(4, n, 5e4),
        };
        for (float[] x : inputs) {
            float[] y = QuantErrors.roundTrip(x, type);
            for (int i = 0; i < n; i++) {
                assertTrue(Float.isFinite(y[i]), type + " decoded a non-finite value from " + x[0]);
            }
        }
        assertArrayEquals(new float[n], QuantErrors.roundTrip(new float[n], type), type + ": zeros");
        float[] constant = QuantErrors.roundTrip(filled(n, 3.25f), type);
        for (float v : constant) {
            assertEquals(3.25f, v, 3.25f * 0.13f, type + ": constant block");
        }
        float[] spiky = QuantErrors.roundTrip(spike(n, 1000f), type);
        assertEquals(1000f, spiky[5], 1000f * 0.1f, type + ": the outlier survives");
    }

    @ParameterizedTest
    @MethodSource("quantTypes")
    void rejectsNonFiniteInput(GgmlType type) {
        float[] x = new float[type.blockSize()];
        x[3] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> BlockCodecs.quantize(x, type));
        x[3] = Float.NEGATIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> BlockCodecs.quantize(x, type));
    }

    @Test
    void rejectsPartialBlocks() {
        assertThrows(IllegalArgumentException.class, () -> BlockCodecs.quantize(new float[48], GgmlType.Q4_0));
        assertThrows(IllegalArgumentException.class, () -> BlockCodecs.quantize(new float[128], GgmlType.Q4_K));
    }

    @Test
    void unsupportedTypesFailWithTheirName() {
        var e = assertThrows(UnsupportedOperationException.class, () -> BlockCodecs.of(GgmlType.IQ2_XXS));
        assertTrue(e.getMessage().contains("IQ2_XXS"));
    }

    @Test
    void encodingOverwritesStaleBytes() {
        GgmlType type = GgmlType.Q3_K;
        float[] x = gaussian(9, 256, 1.0);
        MemorySegment dirty = MemorySegment.ofArray(new byte[type.blockBytes()]);
        dirty.fill((byte) 0xFF);
        BlockCodecs.of(type).encodeBlock(x, 0, dirty, 0);
        float[] y = new float[256];
        BlockCodecs.of(type).decodeBlock(dirty, 0, y, 0);
        assertArrayEquals(QuantErrors.roundTrip(x, type), y);
    }

    private static float[] filled(int n, float v) {
        float[] x = new float[n];
        Arrays.fill(x, v);
        return x;
    }

    private static float[] spike(int n, float v) {
        float[] x = gaussian(11, n, 0.01);
        x[5] = v;
        return x;
    }
}
