package org.llama4j.bench;

import java.lang.foreign.Arena;
import java.util.Random;
import org.llama4j.kernel.KernelMode;
import org.llama4j.kernel.Kernels;
import org.llama4j.kernel.ParallelRunner;
import org.llama4j.tensor.BlockCodec;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.InterleavedQ4Tensor;
import org.llama4j.tensor.Tensor;

/**
 * The single-thread kernel ratios of {@link KernelBenchmark} measured in <em>thread CPU time</em>, interleaving the
 * variants round by round and keeping each one's best round. On a shared, oversubscribed machine wall-clock JMH
 * scores mostly measure the scheduler (errors larger than the scores); CPU time of the measuring thread does not.
 * Prints, per type, a 2048x2048 matrix-vector product: the scalar reference, the exact SIMD path and the 8-bit
 * activation path (time, speed-up, weight GB/s), the exact batch-of-8 product per token, and the product as an
 * {@code --activations auto} model computes decode (Q4_0 on its interleaved integer kernel, other types exact).
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -cp 'llama4j-bench/target/llama4j-bench.jar:llama4j-bench/target/lib/*'
 * org.llama4j.bench.KernelRatios Q4_0 Q4_K ...} (no arguments: every supported type).
 */
public final class KernelRatios {
    private static final int ROWS = 2048;
    private static final int COLS = 2048;
    private static final int BATCH = 8;
    private static final long ROUND_NANOS = 150_000_000L;

    private KernelRatios() {
    }

    public static void main(String[] args) {
        String[] types = args.length > 0 ? args
                : java.util.Arrays.stream(GgmlType.values()).filter(GgmlType::supported).map(Enum::name).toArray(String[]::new);
        try (ParallelRunner one = new ParallelRunner(1); Arena arena = Arena.ofShared()) {
            for (String name : types) {
                GgmlType type = GgmlType.valueOf(name);
                Random rnd = new Random(1);
                BlockTensor w = CpuTimeRounds.repeatedWeights(type, ROWS, COLS, rnd);
                float[] x = CpuTimeRounds.gaussian(rnd, COLS);
                float[] xs = CpuTimeRounds.gaussian(rnd, BATCH * COLS);
                float[] out = new float[ROWS];
                float[] outs = new float[BATCH * ROWS];
                Tensor auto = InterleavedQ4Tensor.supports(w) ? InterleavedQ4Tensor.interleave(w, arena) : w;
                Runnable[] variants = {
                    () -> {
                        for (int r = 0; r < ROWS; r++) {
                            out[r] = BlockCodec.referenceDot(w.codec(), w.data(), r * w.rowBytes(), x, 0, COLS);
                        }
                    },
                    () -> Kernels.matmul(one, w, x, 1, out, KernelMode.EXACT),
                    () -> Kernels.matmul(one, w, x, 1, out, KernelMode.Q8_ACTIVATIONS),
                    () -> Kernels.matmul(one, w, xs, BATCH, outs, KernelMode.EXACT),
                    () -> Kernels.matmul(one, auto, x, 1, out, KernelMode.AUTO),
                };
                double[] best = CpuTimeRounds.bestMicros(variants, 6, ROUND_NANOS);
                System.out.printf("%-7s reference %8.0f us | exact %6.0f us x%4.1f %5.2f GB/s | q8 %6.0f us x%4.1f"
                        + " %5.2f GB/s | exact batch %d: %6.0f us/token | auto %6.0f us x%4.1f%n", name, best[0], best[1],
                        best[0] / best[1], w.byteSize() / best[1] / 1e3, best[2], best[0] / best[2],
                        w.byteSize() / best[2] / 1e3, BATCH, best[3] / BATCH, best[4], best[0] / best[4]);
            }
        }
    }
}
