package org.llama4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.llama4j.kernel.KernelMode;
import org.llama4j.kernel.Kernels;
import org.llama4j.kernel.ParallelRunner;
import org.llama4j.tensor.BlockCodec;
import org.llama4j.tensor.BlockCodecs;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.InterleavedQ4Tensor;
import org.llama4j.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Matrix-vector products per weight type: the scalar reference ({@link BlockCodec#referenceDot} row by row), the
 * vectorized exact path, the 8-bit activation path and {@link KernelMode#AUTO} (Q4_0 on its interleaved integer
 * kernel), all on one thread so that their ratio is the kernel's
 * speed-up; plus the exact path on the shared multi-threaded runner. Weight GB/s = {@code weightBytes} (printed
 * at setup) / time per op. On a shared machine prefer {@link KernelRatios} (thread CPU time) for the ratios.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -cp 'llama4j-bench/target/llama4j-bench.jar:llama4j-bench/target/lib/*'
 * org.openjdk.jmh.Main KernelBenchmark -p type=Q4_0,Q4_K}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KernelBenchmark {
    /** Rows quantized once and repeated to fill the matrix (quantizing 16M values per type would dominate setup). */
    private static final int TILE_ROWS = 64;

    @Param({"BF16", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "IQ4_XS"})
    public String type;

    /** {@code rows x cols}: 2048x2048 (attention projections) and 8192x2048 (FFN up/gate). */
    @Param({"2048x2048", "8192x2048"})
    public String shape;

    private BlockTensor weights;
    /** {@link #weights} as {@link KernelMode#AUTO} models hold them: Q4_0 interleaved for its integer kernel. */
    private Tensor autoWeights;
    private float[] x;
    private float[] out;
    private ParallelRunner singleThread;

    @Setup(Level.Trial)
    public void setup() {
        String[] dims = shape.split("x");
        int rows = Integer.parseInt(dims[0]);
        int cols = Integer.parseInt(dims[1]);
        GgmlType t = GgmlType.valueOf(type);
        Random rnd = new Random(42);
        float[] tile = new float[TILE_ROWS * cols];
        for (int i = 0; i < tile.length; i++) {
            tile[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        MemorySegment tileBytes = BlockCodecs.quantize(tile, t);
        MemorySegment data = Arena.ofAuto().allocate(tileBytes.byteSize() * (rows / TILE_ROWS), 64);
        for (int k = 0; k < rows / TILE_ROWS; k++) {
            data.asSlice(k * tileBytes.byteSize(), tileBytes.byteSize()).copyFrom(tileBytes);
        }
        weights = new BlockTensor("w", t, new long[] {cols, rows}, data);
        x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        out = new float[rows];
        autoWeights = InterleavedQ4Tensor.supports(weights)
                ? InterleavedQ4Tensor.interleave(weights, Arena.ofShared()) : weights;
        singleThread = new ParallelRunner(1);
        System.out.println("\nweightBytes " + type + " " + shape + " = " + weights.byteSize());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        singleThread.close();
    }

    @Benchmark
    public float[] scalarReference() {
        BlockCodec codec = weights.codec();
        int cols = (int) weights.rowLength();
        for (int r = 0; r < out.length; r++) {
            out[r] = BlockCodec.referenceDot(codec, weights.data(), r * weights.rowBytes(), x, 0, cols);
        }
        return out;
    }

    @Benchmark
    public float[] exactOneThread() {
        Kernels.matmul(singleThread, weights, x, 1, out, KernelMode.EXACT);
        return out;
    }

    @Benchmark
    public float[] q8OneThread() {
        Kernels.matmul(singleThread, weights, x, 1, out, KernelMode.Q8_ACTIVATIONS);
        return out;
    }

    /** As an {@code --activations auto} model computes decode: the interleaved integer kernel for Q4_0, else exact. */
    @Benchmark
    public float[] autoOneThread() {
        Kernels.matmul(singleThread, autoWeights, x, 1, out, KernelMode.AUTO);
        return out;
    }

    @Benchmark
    public float[] exactAllThreads() {
        Kernels.matvec(weights, x, out, KernelMode.EXACT);
        return out;
    }
}
