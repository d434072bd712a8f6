package org.llama4j.kernel;

import java.util.Objects;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.Q8Activations;
import org.llama4j.tensor.Tensor;

/**
 * Matrix products with weight tensors, parallel over output rows on a {@link ParallelRunner}.
 *
 * <p>A weight {@code w} of {@code rows} rows of {@code cols} values (ggml order: {@code shape = {cols, rows}},
 * i.e. a PyTorch {@code [out, in]} linear weight) maps activations of {@code cols} values to {@code rows}
 * outputs. Batches of {@code B} activation vectors are stored one after the other ({@code xs[b*cols + i]}) and
 * produce {@code out[b*rows + r]}; each weight row is read and decoded once per batch, which is what makes
 * prefill cheaper than {@code B} matrix-vector products.
 */
public final class Kernels {
    /** Below this many weight values a product runs on the calling thread (waking workers costs more). */
    private static final long PARALLEL_THRESHOLD = 1 << 15;

    private Kernels() {
    }

    /** {@code out[r] = row r of w · x} on the shared runner. */
    public static void matvec(Tensor w, float[] x, float[] out, KernelMode mode) {
        matmul(ParallelRunner.shared(), w, x, 1, out, mode);
    }

    /** {@code out[b*rows + r] = row r of w · xs[b*cols ..]} for {@code b < batch}, on the shared runner. */
    public static void matmul(Tensor w, float[] xs, int batch, float[] out, KernelMode mode) {
        matmul(ParallelRunner.shared(), w, xs, batch, out, mode);
    }

    public static void matmul(ParallelRunner runner, Tensor w, float[] xs, int batch, float[] out, KernelMode mode) {
        Objects.requireNonNull(mode, "mode");
        int cols = Math.toIntExact(w.rowLength());
        int rows = Math.toIntExact(w.rowCount());
        if (batch < 1 || xs.length < (long) batch * cols || out.length < (long) batch * rows) {
            throw new IllegalArgumentException("tensor " + w.name() + " [" + cols + " x " + rows + "]: batch " + batch
                    + " needs " + (long) batch * cols + " inputs and " + (long) batch * rows + " outputs, got "
                    + xs.length + " and " + out.length);
        }
        RowKernel kernel = rowKernel(w, xs, cols, batch, rows, out, mode);
        long work = (long) rows * cols * batch;
        if (work < PARALLEL_THRESHOLD) {
            kernel.run(0, rows);
        } else {
            runner.parallelFor(rows, 4, kernel::run);
        }
    }

    /** The per-row-range body of a product: scratch memory is allocated once per range, not per row. */
    private interface RowKernel {
        void run(int startRow, int endRow);
    }

    private static RowKernel rowKernel(Tensor w, float[] xs, int cols, int batch, int rows, float[] out,
            KernelMode mode) {
        if (mode == KernelMode.Q8_ACTIVATIONS && w instanceof BlockTensor bt && isQuantized(bt)) {
            Q8Activations x8 = Q8Activations.quantize(xs, 0, cols, batch);
            return (start, end) -> {
                Q8Activations.Scratch scratch = new Q8Activations.Scratch(cols);
                for (int r = start; r < end; r++) {
                    x8.dotRow(bt, r, scratch, out, r, rows);
                }
            };
        }
        if (batch == 1) {
            return (start, end) -> {
                for (int r = start; r < end; r++) {
                    out[r] = w.dotRow(r, xs, 0);
                }
            };
        }
        return (start, end) -> {
            float[] row = new float[cols];
            for (int r = start; r < end; r++) {
                w.dequantizeRow(r, row, 0);
                for (int b = 0; b < batch; b++) {
                    out[b * rows + r] = VectorOps.dot(row, 0, xs, b * cols, cols);
                }
            }
        };
    }

    private static boolean isQuantized(BlockTensor w) {
        return switch (w.type()) {
            case F32, F16, BF16 -> false;
            default -> true;
        };
    }

    /**
     * The input-major product {@code out[j] += Σ_i x[i] · w[i][j]} for a weight stored with one row per input
     * ({@code rowCount = x.length}, {@code rowLength = out.length}; HF's fused expert tensors {@code [D, 2F]}
     * used as {@code x·W}). Parallel over column ranges, each accumulating input rows in order.
     */
    public static void addInputMajor(Tensor w, float[] x, float[] out) {
        addInputMajor(ParallelRunner.shared(), w, x, out);
    }

    public static void addInputMajor(ParallelRunner runner, Tensor w, float[] x, float[] out) {
        int inputs = Math.toIntExact(w.rowCount());
        int width = Math.toIntExact(w.rowLength());
        if (x.length < inputs || out.length < width) {
            throw new IllegalArgumentException("tensor " + w.name() + " [" + width + " x " + inputs + "]: needs "
                    + inputs + " inputs and " + width + " outputs, got " + x.length + " and " + out.length);
        }
        if (!(w instanceof BlockTensor bt) || (long) inputs * width < PARALLEL_THRESHOLD) {
            float[] row = new float[width];
            for (int i = 0; i < inputs; i++) {
                w.dequantizeRow(i, row, 0);
                VectorOps.axpy(x[i], row, 0, out, 0, width);
            }
            return;
        }
        int blockSize = bt.type().blockSize();
        int blockBytes = bt.type().blockBytes();
        int blocks = width / blockSize;
        // column ranges are whole blocks, so each thread decodes only its part of every row
        int minBlocks = Math.max(1, 64 / blockSize);
        runner.parallelFor(blocks, minBlocks, (startBlock, endBlock) -> {
            int start = startBlock * blockSize;
            int count = (endBlock - startBlock) * blockSize;
            float[] part = new float[count];
            for (int i = 0; i < inputs; i++) {
                bt.codec().decode(bt.data(), i * bt.rowBytes() + (long) startBlock * blockBytes, part, 0, count);
                VectorOps.axpy(x[i], part, 0, out, start, count);
            }
        });
    }
}
