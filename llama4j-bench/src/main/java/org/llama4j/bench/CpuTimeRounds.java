package org.llama4j.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;

/**
 * What the CPU-time ratio tools share: variants timed in <em>thread CPU time</em> of the measuring thread,
 * interleaved round by round, each keeping its best round (on a shared, oversubscribed machine wall-clock time
 * mostly measures the scheduler), and weight matrices built from a quantized tile of rows repeated to size
 * (K-quant search over millions of values would dominate the run).
 */
final class CpuTimeRounds {
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    /** Rows quantized once and repeated: 64 rows of 8192 values are 2 MiB of floats, past L2 once decoded. */
    private static final int TILE_ROWS = 64;

    private CpuTimeRounds() {
    }

    /** The best CPU microseconds per run of each variant over {@code rounds} interleaved rounds of about {@code roundNanos}. */
    static double[] bestMicros(Runnable[] variants, int rounds, long roundNanos) {
        double[] best = new double[variants.length];
        Arrays.fill(best, Double.MAX_VALUE);
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < variants.length; v++) {
                long cpu0 = CPU.getCurrentThreadCpuTime();
                long wall0 = System.nanoTime();
                int n = 0;
                while (System.nanoTime() - wall0 < roundNanos) {
                    variants[v].run();
                    n++;
                }
                best[v] = Math.min(best[v], (CPU.getCurrentThreadCpuTime() - cpu0) / 1e3 / n);
            }
        }
        return best;
    }

    /** A {@code rows x cols} weight of {@code type}: gaussian rows (σ 0.02, like trained weights) quantized once, repeated. */
    static BlockTensor repeatedWeights(GgmlType type, int rows, int cols, Random rnd) {
        float[] values = new float[rows * cols];
        int tile = Math.min(rows, TILE_ROWS) * cols;
        for (int i = 0; i < values.length; i++) {
            values[i] = i < tile ? (float) (rnd.nextGaussian() * 0.02) : values[i % tile];
        }
        return BlockTensor.quantize("w", type, values, cols, rows);
    }

    static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }
}
