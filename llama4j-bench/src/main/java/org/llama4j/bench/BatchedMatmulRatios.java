package org.llama4j.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.llama4j.kernel.KernelMode;
import org.llama4j.kernel.Kernels;
import org.llama4j.kernel.ParallelRunner;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;

/**
 * Batched products ({@link Kernels#matmul} with a batch, as prefill runs them) on one thread, in thread CPU time
 * (see {@link CpuTimeRounds}). For each type, weight shape and batch size it prints the product's time per
 * token, its GFLOP/s and their share of this core's measured FMA peak, beside the alternative of fused per-token
 * dot products ({@code Tensor.dotRow} for every row and token, the batch-1 kernel) and the cost of decoding the
 * whole weight to float once (what a panel product pays per call however large the batch).
 *
 * <p>The peak is measured, not assumed: a loop of independent vector FMAs that never touches memory, so it is
 * what this (possibly virtualized, possibly turbo-clocked) core sustains.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -cp 'llama4j-bench/target/llama4j-bench.jar:llama4j-bench/target/lib/*'
 * org.llama4j.bench.BatchedMatmulRatios [types=Q4_0,Q4_K] [shapes=2048x2048] [batches=1,2,4]} (defaults: Q4_0, Q4_K,
 * Q6_K, Q8_0, BF16; 2048x2048, 8192x2048, 2048x8192 as rows x cols; batches 1, 2, 3, 4, 8, 16, 64).
 */
public final class BatchedMatmulRatios {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final long ROUND_NANOS = 60_000_000L;
    private static final int ROUNDS = 4;
    /** Independent accumulators of the peak loop: more than FMA latency × FMA ports, so the ports never wait. */
    private static final int PEAK_CHAINS = 16;

    private BatchedMatmulRatios() {
    }

    public static void main(String[] args) {
        List<String> types = List.of("Q4_0", "Q4_K", "Q6_K", "Q8_0", "BF16");
        List<String> shapes = List.of("2048x2048", "8192x2048", "2048x8192");
        int[] batches = {1, 2, 3, 4, 8, 16, 64};
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            List<String> values = List.of(kv[1].split(","));
            switch (kv[0]) {
                case "types" -> types = values;
                case "shapes" -> shapes = values;
                case "batches" -> batches = values.stream().mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("unknown argument " + arg
                        + " (types=..., shapes=..., batches=...)");
            }
        }
        int maxBatch = Arrays.stream(batches).max().orElseThrow();
        double peak = fmaPeakGflops();
        System.out.printf("one-core FMA peak (measured, %d-lane vectors): %.1f GFLOP/s%n", S.length(), peak);
        System.out.printf("%-5s %-9s %5s | %9s %7s %5s | %9s %7s | %s%n", "type", "rows x cols", "batch",
                "us/token", "GFLOP/s", "peak", "dot us/tk", "dot/mm", "decode-all us");
        try (ParallelRunner one = new ParallelRunner(1)) {
            for (String typeName : types) {
                GgmlType type = GgmlType.valueOf(typeName);
                for (String shape : shapes) {
                    String[] dims = shape.split("x");
                    int rows = Integer.parseInt(dims[0]);
                    int cols = Integer.parseInt(dims[1]);
                    Random rnd = new Random(1);
                    BlockTensor w = CpuTimeRounds.repeatedWeights(type, rows, cols, rnd);
                    float[] xs = CpuTimeRounds.gaussian(rnd, maxBatch * cols);
                    float[] out = new float[maxBatch * rows];
                    float[] decoded = new float[cols];
                    Runnable decodeAll = () -> {
                        for (int r = 0; r < rows; r++) {
                            w.dequantizeRow(r, decoded, 0);
                        }
                    };
                    double decodeMicros = CpuTimeRounds.bestMicros(new Runnable[] {decodeAll}, ROUNDS, ROUND_NANOS)[0];
                    for (int batch : batches) {
                        Runnable[] variants = {
                            () -> Kernels.matmul(one, w, xs, batch, out, KernelMode.EXACT),
                            () -> {
                                for (int r = 0; r < rows; r++) {
                                    for (int t = 0; t < batch; t++) {
                                        out[t * rows + r] = w.dotRow(r, xs, t * cols);
                                    }
                                }
                            },
                        };
                        double[] best = CpuTimeRounds.bestMicros(variants, ROUNDS, ROUND_NANOS);
                        double gflops = 2.0 * rows * cols * batch / best[0] / 1e3;
                        System.out.printf("%-5s %-11s %5d | %9.1f %7.1f %4.0f%% | %9.1f %7.2f | %.0f%n", typeName, shape,
                                batch, best[0] / batch, gflops, 100 * gflops / peak, best[1] / batch,
                                best[1] / best[0], decodeMicros);
                    }
                }
            }
        }
    }

    /** GFLOP/s (2 per lane per FMA) of {@value #PEAK_CHAINS} independent FMA chains kept in registers. */
    private static double fmaPeakGflops() {
        int iterations = 1 << 22;
        Runnable chains = () -> {
            FloatVector a = FloatVector.broadcast(S, 0.999f);
            FloatVector b = FloatVector.broadcast(S, 1e-3f);
            FloatVector c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a;
            FloatVector c8 = a, c9 = a, c10 = a, c11 = a, c12 = a, c13 = a, c14 = a, c15 = a;
            for (int i = 0; i < iterations; i++) {
                c0 = c0.fma(a, b);
                c1 = c1.fma(a, b);
                c2 = c2.fma(a, b);
                c3 = c3.fma(a, b);
                c4 = c4.fma(a, b);
                c5 = c5.fma(a, b);
                c6 = c6.fma(a, b);
                c7 = c7.fma(a, b);
                c8 = c8.fma(a, b);
                c9 = c9.fma(a, b);
                c10 = c10.fma(a, b);
                c11 = c11.fma(a, b);
                c12 = c12.fma(a, b);
                c13 = c13.fma(a, b);
                c14 = c14.fma(a, b);
                c15 = c15.fma(a, b);
            }
            float sink = c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10)
                    .add(c11).add(c12).add(c13).add(c14).add(c15).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
            if (sink == 42f) {
                System.out.print(""); // keeps the chains live
            }
        };
        double micros = CpuTimeRounds.bestMicros(new Runnable[] {chains}, 3 * ROUNDS, ROUND_NANOS)[0];
        return 2.0 * S.length() * PEAK_CHAINS * iterations / micros / 1e3;
    }
}
