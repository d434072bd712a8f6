package org.llama4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The vector sweeps must reproduce the one-candidate-at-a-time arithmetic bit for bit (quantized files are
 * compared byte for byte), whatever the vector width: checked against a plain scalar evaluation here.
 */
class ScaleSweepTest {
    private static final int CANDIDATES = 50;

    @Test
    void codeSumsEqualScalarSumsBitForBit() {
        SplittableRandom random = new SplittableRandom(7);
        int[][] grids = {{-8, 7}, {-127, 127}, {-32, 31}, {-128, 127}, {0, 15}, {0, 63}, {0, 3}};
        for (int round = 0; round < 200; round++) {
            int n = round % 2 == 0 ? 32 : 16;
            float[] x = values(random, n, round);
            int[] grid = grids[round % grids.length];
            float shift = grid[0] == 0 ? Math.min(0f, min(x)) : 0f;
            float[] scales = new float[ScaleSweep.lanes(CANDIDATES)];
            for (int t = 0; t < CANDIDATES; t++) {
                scales[t] = (float) ((random.nextBoolean() ? 1 : -1) * Math.exp(random.nextDouble(-6, 2)));
                if (grid[0] == 0) {
                    scales[t] = Math.abs(scales[t]);
                }
            }
            double[] sq = new double[scales.length];
            double[] sqq = new double[scales.length];
            double[] sxq = new double[scales.length];
            ScaleSweep.codeSums(x, 0, n, shift, grid[0], grid[1], scales, CANDIDATES, sq, sqq, sxq);
            for (int t = 0; t < CANDIDATES; t++) {
                double sumQ = 0;
                double sumQQ = 0;
                double sumXQ = 0;
                for (int i = 0; i < n; i++) {
                    double q = Math.clamp(Math.rint((x[i] - shift) / scales[t]), grid[0], grid[1]) + 0.0;
                    sumQ += q;
                    sumQQ += q * q;
                    sumXQ += x[i] * q;
                }
                String where = "round " + round + " candidate " + t;
                assertEquals(Double.doubleToRawLongBits(sumQ), Double.doubleToRawLongBits(sq[t]), where);
                assertEquals(Double.doubleToRawLongBits(sumQQ), Double.doubleToRawLongBits(sqq[t]), where);
                assertEquals(Double.doubleToRawLongBits(sumXQ), Double.doubleToRawLongBits(sxq[t]), where);
            }
        }
    }

    @Test
    void nearestCodesEqualScalarRounding() {
        SplittableRandom random = new SplittableRandom(11);
        for (int round = 0; round < 200; round++) {
            int n = 1 + random.nextInt(40);
            float[] x = values(random, n, round);
            float scale = (float) Math.exp(random.nextDouble(-6, 2));
            int[] codes = new int[n + 3];
            ScaleSweep.nearestCodes(x, 0, n, 0f, scale, -32, 31, codes, 3);
            int[] expected = new int[n + 3];
            for (int i = 0; i < n; i++) {
                expected[3 + i] = (int) Math.clamp(Math.rint(x[i] / scale), -32, 31) + 32;
            }
            assertArrayEquals(expected, codes, "round " + round);
        }
    }

    /** Gaussian values, some rounded to bfloat16 or to quarters (exact ties), some exactly zero. */
    private static float[] values(SplittableRandom random, int n, int round) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            float v = (float) random.nextGaussian();
            x[i] = switch (round % 4) {
                case 0 -> Float.intBitsToFloat(Float.floatToIntBits(v) & 0xffff0000);
                case 1 -> Math.round(v * 4) / 4f;
                case 2 -> i % 3 == 0 ? 0f : v;
                default -> v;
            };
        }
        return x;
    }

    private static float min(float[] x) {
        float m = Float.POSITIVE_INFINITY;
        for (float v : x) {
            m = Math.min(m, v);
        }
        return m;
    }
}
