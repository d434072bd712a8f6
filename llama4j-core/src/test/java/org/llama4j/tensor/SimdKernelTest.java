package org.llama4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.Stream;

/**
 * The vectorized codec kernels against their scalar references: {@link BlockCodec#decode} bit for bit against
 * {@link BlockCodec#decodeBlock}, {@link BlockCodec#dot} against {@link BlockCodec#referenceDot} up to summation
 * order, and the 8-bit activation path against its integer reference (bit for bit) and against the exact dot
 * product (within the error the activation rounding allows).
 */
class SimdKernelTest {

    static Stream<GgmlType> supportedTypes() {
        return Arrays.stream(GgmlType.values()).filter(GgmlType::supported);
    }

    static Stream<GgmlType> quantizedTypes() {
        return supportedTypes().filter(t -> BlockCodecs.of(t) instanceof GroupedCodes);
    }

    /** Row lengths: whole 256-blocks for every type, plus lengths leaving vector tails for the float formats. */
    static Stream<Arguments> typesAndLengths() {
        return supportedTypes().flatMap(t -> t.blockSize() == 1
                ? Stream.of(Arguments.of(t, 768), Arguments.of(t, 1003), Arguments.of(t, 5))
                : Stream.of(Arguments.of(t, 768)));
    }

    private static float[] gaussian(Random rnd, int n, double sigma) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return v;
    }

    /** Arbitrary bytes: every bit pattern of codes, scales (including fp16 NaN/inf/subnormal) and signs. */
    private static MemorySegment randomBytes(Random rnd, long n) {
        byte[] b = new byte[Math.toIntExact(n)];
        rnd.nextBytes(b);
        return MemorySegment.ofArray(b);
    }

    private static float[] referenceDecode(BlockCodec codec, MemorySegment src, int count) {
        float[] out = new float[count];
        int bs = codec.type().blockSize();
        for (int i = 0; i < count; i += bs) {
            codec.decodeBlock(src, (long) i / bs * codec.type().blockBytes(), out, i);
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("typesAndLengths")
    void vectorDecodeIsBitIdenticalOnArbitraryBytes(GgmlType type, int length) {
        Random rnd = new Random(11 + type.ordinal());
        BlockCodec codec = BlockCodecs.of(type);
        for (int trial = 0; trial < 20; trial++) {
            MemorySegment src = randomBytes(rnd, type.byteSize(length));
            float[] expected = referenceDecode(codec, src, length);
            float[] actual = new float[length + 3];
            codec.decode(src, 0, actual, 3, length);
            for (int i = 0; i < length; i++) {
                // assertEquals(float, float) compares bits (NaNs equal each other, 0.0 differs from -0.0)
                assertEquals(expected[i], actual[3 + i], type + " value " + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("typesAndLengths")
    void vectorDotMatchesReferenceUpToSummationOrder(GgmlType type, int length) {
        Random rnd = new Random(23 + type.ordinal());
        BlockCodec codec = BlockCodecs.of(type);
        for (int trial = 0; trial < 20; trial++) {
            MemorySegment w = BlockCodecs.quantize(gaussian(rnd, length, trial % 2 == 0 ? 0.05 : 3.0), type);
            float[] x = gaussian(rnd, length + 7, 1.0);
            float expected = BlockCodec.referenceDot(codec, w, 0, x, 7, length);
            float actual = codec.dot(w, 0, x, 7, length);
            float[] decoded = referenceDecode(codec, w, length);
            double magnitude = 0;
            for (int i = 0; i < length; i++) {
                magnitude += Math.abs((double) decoded[i] * x[7 + i]);
            }
            assertTrue(Math.abs(actual - expected) <= 1e-5 * magnitude,
                    type + ": " + actual + " vs reference " + expected + " (sum |w·x| " + magnitude + ")");
        }
    }

    /**
     * The fused kernels ({@code dot} overrides that unpack codes in registers: Q4_0, Q4_K, Q6_K, Q8_0) against the
     * scalar {@link BlockCodec#referenceDot}, up to float summation order (they scale whole groups, so they are not
     * bit-identical to it), on arbitrary bytes (every code, scale and sign pattern) and on quantized data, at an
     * unaligned weight and x offset. Where arbitrary scales make the reference infinite or NaN, so must the kernel be.
     */
    @ParameterizedTest
    @MethodSource("quantizedTypes")
    void fusedDotMatchesReferenceUpToSummationOrder(GgmlType type) {
        Random rnd = new Random(31 + type.ordinal());
        BlockCodec codec = BlockCodecs.of(type);
        int length = 1024;
        for (int trial = 0; trial < 40; trial++) {
            long pad = type.blockBytes() * (long) (trial % 3);
            MemorySegment w;
            if (trial % 2 == 0) {
                w = randomBytes(rnd, pad + type.byteSize(length));
            } else {
                MemorySegment q = BlockCodecs.quantize(gaussian(rnd, length, trial % 4 == 1 ? 0.05 : 3.0), type);
                w = MemorySegment.ofArray(new byte[Math.toIntExact(pad + q.byteSize())]);
                w.asSlice(pad).copyFrom(q);
            }
            float[] x = gaussian(rnd, length + 5, 1.0);
            float expected = BlockCodec.referenceDot(codec, w, pad, x, 5, length);
            float actual = codec.dot(w, pad, x, 5, length);
            if (!Float.isFinite(expected)) {
                assertTrue(!Float.isFinite(actual), type + " trial " + trial + ": " + actual + " vs reference " + expected);
                continue;
            }
            float[] decoded = new float[length];
            codec.decode(w, pad, decoded, 0, length);
            double magnitude = 0;
            for (int i = 0; i < length; i++) {
                magnitude += Math.abs((double) decoded[i] * x[5 + i]);
            }
            assertTrue(Math.abs(actual - expected) <= 1e-5 * magnitude + 1e-30,
                    type + " trial " + trial + ": " + actual + " vs reference " + expected + " (sum |w·x| " + magnitude + ")");
        }
    }

    @ParameterizedTest
    @MethodSource("quantizedTypes")
    void q8DotRowMatchesIntegerReference(GgmlType type) {
        Random rnd = new Random(37 + type.ordinal());
        int cols = 512;
        int rows = 5;
        int batch = 3;
        BlockTensor w = BlockTensor.quantize("w", type, gaussian(rnd, cols * rows, 0.1), cols, rows);
        float[] xs = gaussian(rnd, cols * batch, 1.0);
        xs[5] = 0f;
        Arrays.fill(xs, cols, cols + 32, 0f); // an all-zero activation block (scale 0)
        Q8Activations x8 = Q8Activations.quantize(xs, 0, cols, batch);
        Q8Activations.Scratch scratch = new Q8Activations.Scratch(cols);
        float[] out = new float[rows * batch];
        for (int r = 0; r < rows; r++) {
            x8.dotRow(w, r, scratch, out, r, rows);
            for (int b = 0; b < batch; b++) {
                double[] magnitude = new double[1];
                float expected = x8.referenceDotRow(w, r, b, magnitude);
                // same integers, group terms summed in lanes instead of in order: float rounding only
                assertTrue(Math.abs(out[b * rows + r] - expected) <= 1e-5 * magnitude[0],
                        type + " row " + r + " vector " + b + ": " + out[b * rows + r] + " vs " + expected);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void integerByteDotIsExactOverTheFullByteRange() {
        Random rnd = new Random(5);
        for (int trial = 0; trial < 2000; trial++) {
            int n = 16 * (1 + rnd.nextInt(4));
            byte[] a = new byte[n + 16];
            short[] b = new short[n + 16];
            rnd.nextBytes(a);
            for (int i = 0; i < b.length; i++) {
                b[i] = (short) (rnd.nextInt(255) - 127); // activations are -127..127
            }
            if (trial == 0) {
                Arrays.fill(a, (byte) -128); // the largest products, all of one sign
                Arrays.fill(b, (short) -127);
            }
            int ai = rnd.nextInt(16);
            int bi = rnd.nextInt(16);
            int expected = 0;
            for (int i = 0; i < n; i++) {
                expected += a[ai + i] * b[bi + i];
            }
            assertEquals(expected, SimdDot.dotBytes(a, ai, b, bi, n), "n " + n);
        }
    }

    @ParameterizedTest
    @MethodSource("quantizedTypes")
    void q8DotRowErrorIsBoundedByActivationRounding(GgmlType type) {
        Random rnd = new Random(41 + type.ordinal());
        int cols = 1024;
        int rows = 8;
        BlockTensor w = BlockTensor.quantize("w", type, gaussian(rnd, cols * rows, 0.1), cols, rows);
        float[] x = gaussian(rnd, cols, 2.0);
        Q8Activations x8 = Q8Activations.quantize(x, 0, cols, 1);
        Q8Activations.Scratch scratch = new Q8Activations.Scratch(cols);
        float[] row = new float[cols];
        float[] out = new float[1];
        double totalError = 0;
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            x8.dotRow(w, r, scratch, out, 0, 1);
            double exact = 0;
            double bound = 0;
            double magnitude = 0;
            for (int i = 0; i < cols; i++) {
                exact += (double) row[i] * x[i];
                // |x - d·q| <= d/2 where d = absmax/127 of the 32-value block
                bound += Math.abs(row[i]) * Math.abs(x[i] - x8.value(0, i));
                magnitude += Math.abs((double) row[i] * x[i]);
                assertTrue(Math.abs(x[i] - x8.value(0, i)) <= blockAbsMax(x, i) / 127 / 2 * (1 + 1e-5));
            }
            double error = Math.abs(out[0] - exact);
            assertTrue(error <= bound + 1e-5 * magnitude,
                    type + " row " + r + ": error " + error + " exceeds activation rounding bound " + bound);
            totalError += error;
        }
        assertTrue(totalError > 0, "8-bit activations cannot be exact on Gaussian data: is the Q8 path used?");
    }

    private static float blockAbsMax(float[] x, int i) {
        int start = i / Q8Activations.BLOCK * Q8Activations.BLOCK;
        float m = 0;
        for (int j = start; j < start + Q8Activations.BLOCK; j++) {
            m = Math.max(m, Math.abs(x[j]));
        }
        return m;
    }

    @ParameterizedTest
    @MethodSource("supportedTypes")
    void q8DotRowFallsBackToExactForFloatWeights(GgmlType type) {
        if (BlockCodecs.of(type) instanceof GroupedCodes) {
            return;
        }
        Random rnd = new Random(43);
        int cols = 64;
        BlockTensor w = BlockTensor.quantize("w", type, gaussian(rnd, cols * 2, 1), cols, 2);
        float[] xs = gaussian(rnd, cols * 2, 1);
        Q8Activations x8 = Q8Activations.quantize(xs, 0, cols, 2);
        float[] out = new float[4];
        x8.dotRow(w, 1, new Q8Activations.Scratch(cols), out, 1, 2);
        assertEquals(w.dotRow(1, xs, 0), out[1]);
        assertEquals(w.dotRow(1, xs, cols), out[3]);
    }
}
