package org.llama4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Fp8E4M3Test {

    /** The E4M3fn value of a byte, from the format's definition in double arithmetic (independent of the table). */
    private static double reference(int b) {
        int sign = b >>> 7;
        int exp = (b >>> 3) & 0xf;
        int mant = b & 0x7;
        if (exp == 15 && mant == 7) {
            return Double.NaN;
        }
        double magnitude = exp == 0 ? (mant / 8.0) * Math.pow(2, -6) : (1 + mant / 8.0) * Math.pow(2, exp - 7);
        return sign == 1 ? -magnitude : magnitude;
    }

    @Test
    void decodesAll256BytesExactly() {
        for (int b = 0; b < 256; b++) {
            double expected = reference(b);
            float actual = Fp8E4M3.decode((byte) b);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(actual), "byte " + b);
            } else {
                assertEquals(Float.floatToRawIntBits((float) expected), Float.floatToRawIntBits(actual),
                        "byte 0x" + Integer.toHexString(b));
            }
        }
        assertEquals(448f, Fp8E4M3.decode((byte) 0x7e));
        assertEquals(-448f, Fp8E4M3.decode((byte) 0xfe));
        assertEquals(0x1p-9f, Fp8E4M3.decode((byte) 0x01), "smallest subnormal");
        assertEquals(0x7p-9f, Fp8E4M3.decode((byte) 0x07), "largest subnormal");
        assertEquals(0x1p-6f, Fp8E4M3.decode((byte) 0x08), "smallest normal");
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Fp8E4M3.decode((byte) 0x80)));
        assertTrue(Float.isNaN(Fp8E4M3.decode((byte) 0x7f)));
        assertTrue(Float.isNaN(Fp8E4M3.decode((byte) 0xff)));
        assertEquals(256f, Fp8E4M3.decode((byte) 0x78), "exponent 15 is a normal binade in the fn variant");
    }

    @Test
    void encodeInvertsDecodeForEveryFiniteValue() {
        for (int b = 0; b < 256; b++) {
            if ((b & 0x7f) != 0x7f) {
                assertEquals((byte) b, Fp8E4M3.encode(Fp8E4M3.decode((byte) b)), "byte " + b);
            }
        }
    }

    /** Nearest code by exhaustive search, ties to the even code: the definition the encoder must meet. */
    private static byte nearestByBruteForce(float f) {
        int best = -1;
        double bestDist = Double.POSITIVE_INFINITY;
        for (int b = 0; b < 256; b++) {
            double v = reference(b);
            if (Double.isNaN(v) || (Math.copySign(1.0, v) != Math.copySign(1.0, f))) {
                continue;
            }
            double d = Math.abs(v - f);
            if (d < bestDist || (d == bestDist && (b & 1) == 0)) {
                best = b;
                bestDist = d;
            }
        }
        return (byte) best;
    }

    @Test
    void encodeRoundsToNearestEvenLikeBruteForce() {
        Random rnd = new Random(42);
        for (int i = 0; i < 50_000; i++) {
            float f = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(20) - 12));
            if (Math.abs(f) < 448f) {
                assertEquals(nearestByBruteForce(f), Fp8E4M3.encode(f), "value " + f);
            }
        }
        // Exact midpoints between neighbours go to the even code; a hair either side goes to the nearer one.
        for (int b = 0; b < 0x7e; b++) {
            float lo = Fp8E4M3.decode((byte) b);
            float hi = Fp8E4M3.decode((byte) (b + 1));
            float mid = (lo + hi) / 2;
            assertEquals((byte) ((b & 1) == 0 ? b : b + 1), Fp8E4M3.encode(mid), "midpoint above 0x" + Integer.toHexString(b));
            assertEquals((byte) (b | 0x80), Fp8E4M3.encode(-Math.nextDown(mid)) , "below midpoint, negative");
            assertEquals((byte) (b + 1), Fp8E4M3.encode(Math.nextUp(mid)));
        }
    }

    @Test
    void encodeSaturatesAndKeepsNaN() {
        assertEquals((byte) 0x7e, Fp8E4M3.encode(448f));
        assertEquals((byte) 0x7e, Fp8E4M3.encode(463.9f));
        assertEquals((byte) 0x7e, Fp8E4M3.encode(1e9f));
        assertEquals((byte) 0x7e, Fp8E4M3.encode(Float.POSITIVE_INFINITY));
        assertEquals((byte) 0xfe, Fp8E4M3.encode(Float.NEGATIVE_INFINITY));
        assertEquals((byte) 0x00, Fp8E4M3.encode(0x1p-11f), "below half the smallest subnormal rounds to zero");
        assertEquals((byte) 0x00, Fp8E4M3.encode(0x1p-10f), "exact half of the smallest subnormal ties to zero");
        assertEquals((byte) 0x80, Fp8E4M3.encode(-0f));
        assertTrue(Float.isNaN(Fp8E4M3.decode(Fp8E4M3.encode(Float.NaN))));
    }

    @Test
    void rowScaledTensorDequantizesAndDots() {
        Random rnd = new Random(7);
        int rowLength = 48;
        int rows = 5;
        float[] w = new float[rows * rowLength];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian() * (1 + i / rowLength);
        }
        Fp8RowScaledTensor.QuantizedRows q = Fp8RowScaledTensor.quantizeRows(w, rowLength, GgmlType.BF16);
        BlockTensor scales = bf16Tensor("w_scale", q.scales(), 1, rows);
        var t = new Fp8RowScaledTensor("w", new long[] {rowLength, rows}, MemorySegment.ofArray(q.data()), scales);
        assertEquals("F8_E4M3", t.typeName());
        assertEquals(rows, t.rowCount());
        float[] x = new float[rowLength];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] row = new float[rowLength];
        for (int r = 0; r < rows; r++) {
            t.dequantizeRow(r, row, 0);
            float absMax = 0;
            double dot = 0;
            for (int i = 0; i < rowLength; i++) {
                float original = w[r * rowLength + i];
                absMax = Math.max(absMax, Math.abs(original));
                assertEquals(Fp8E4M3.decode(q.data()[r * rowLength + i]) * q.scales()[r], row[i]);
                dot += (double) row[i] * x[i];
            }
            for (int i = 0; i < rowLength; i++) {
                // E4M3 has 3 mantissa bits: relative error ≤ 2^-4 for normals, plus the subnormal step.
                float original = w[r * rowLength + i];
                assertEquals(original, row[i], Math.abs(original) / 16 + absMax / 448 * 0x1p-9f * 2, "row " + r);
            }
            assertEquals(dot, t.dotRow(r, x, 0), 1e-4 * (1 + Math.abs(dot)));
        }
    }

    @Test
    void perTensorScaleAppliesToEveryRow() {
        byte[] data = {Fp8E4M3.encode(1f), Fp8E4M3.encode(-2f), Fp8E4M3.encode(0.5f), Fp8E4M3.encode(4f)};
        var t = new Fp8RowScaledTensor("w", new long[] {2, 2}, MemorySegment.ofArray(data),
                BlockTensor.ofFloats("s", new float[] {0.25f}, 1));
        assertEquals(0.25f * (1 * 3 + -2 * 5), t.dotRow(0, new float[] {3, 5}, 0));
        assertEquals(0.25f * (0.5f * 3 + 4 * 5), t.dotRow(1, new float[] {3, 5}, 0));
    }

    @Test
    void rejectsScaleCountThatMatchesNeitherRowsNorTensor() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Fp8RowScaledTensor("w", new long[] {2, 3},
                MemorySegment.ofArray(new byte[6]), BlockTensor.ofFloats("s", new float[2], 1, 2)));
        assertTrue(e.getMessage().contains("2 scales for 3 rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Fp8RowScaledTensor("w", new long[] {2, 3},
                MemorySegment.ofArray(new byte[5]), BlockTensor.ofFloats("s", new float[3], 1, 3)));
    }

    static BlockTensor bf16Tensor(String name, float[] values, long... shape) {
        MemorySegment seg = MemorySegment.ofArray(new short[values.length]);
        for (int i = 0; i < values.length; i++) {
            seg.setAtIndex(BlockCodecs.I16, i, BlockCodecs.floatToBf16(values[i]));
        }
        return new BlockTensor(name, GgmlType.BF16, shape, seg);
    }
}
