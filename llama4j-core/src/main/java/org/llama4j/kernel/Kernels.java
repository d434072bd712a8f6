package org.llama4j.kernel;

import java.util.Objects;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.InterleavedQ4Tensor;
import org.llama4j.tensor.Q8Activations;
import org.llama4j.tensor.Tensor;

/**
 * Matrix products with weight tensors, parallel on a {@link ParallelRunner} (by default the shared one).
 *
 * <p>Output-major weights ({@link #matmul}): {@code rows} rows of {@code cols} values (ggml order
 * {@code shape = {cols, rows}}, a PyTorch {@code [out, in]} linear weight) map {@code cols} inputs to {@code rows}
 * outputs; the work is split over rows. A batch of {@code B} vectors is stored one after the other
 * ({@code xs[b*cols + i]}) and produces {@code out[b*rows + r]}; each weight row is read and decoded once per
 * batch, which is what makes prefill cheaper per token than decode. Exact batches run on {@link TiledMatMul}'s
 * register tiles (several weight rows times several vectors per pass over a decoded panel of rows), except
 * batches too small to repay decoding the panel (see {@link #smallestPanelBatch}), which take fused per-token
 * dot products.
 *
 * <p>Input-major weights ({@link #addInputMajor}): one row per input, used as {@code x·W} (HF's fused expert
 * tensors); the work is split over column ranges.
 */
public final class Kernels {
    /**
     * The largest batch {@link KernelMode#AUTO} gives the interleaved Q4_0/Q4_K integer kernel: per vector it costs
     * about the same at any batch, while the float path gets cheaper per vector with the batch. Measured, 2048x2048,
     * one thread, CPU time, 1 to 6 vectors: Q4_0 breaks even at 4-5 vectors, Q4_K at about 6; 4 serves both.
     */
    public static final int INTERLEAVED_AUTO_MAX_BATCH = 4;

    /** Below this many multiply-adds a product runs on the calling thread (waking workers costs more). */
    private static final long PARALLEL_THRESHOLD = 1 << 15;

    private Kernels() {
    }

    /** {@code out[r] = row r of w · x}, every row of {@code w}, on the shared runner. */
    public static void matvec(Tensor w, float[] x, float[] out, KernelMode mode) {
        matmul(ParallelRunner.shared(), w, x, 1, out, mode);
    }

    /** {@code out[b*rows + r] = row r of w · xs[b*cols ..]} for {@code b < batch}, on the shared runner. */
    public static void matmul(Tensor w, float[] xs, int batch, float[] out, KernelMode mode) {
        matmul(ParallelRunner.shared(), w, xs, batch, out, mode);
    }

    public static void matmul(ParallelRunner runner, Tensor w, float[] xs, int batch, float[] out, KernelMode mode) {
        matmul(runner, w, 0, Math.toIntExact(w.rowCount()), xs, 0, batch, out, 0, mode);
    }

    /**
     * The general form: rows {@code firstRow .. firstRow+rows)} of {@code w} (e.g. one expert of a stacked
     * tensor), {@code out[outOffset + b*rows + r] = row (firstRow + r) · xs[xOffset + b*cols ..]}. An empty batch
     * does nothing.
     */
    public static void matmul(ParallelRunner runner, Tensor w, long firstRow, int rows, float[] xs, int xOffset,
            int batch, float[] out, int outOffset, KernelMode mode) {
        Objects.requireNonNull(mode, "mode");
        int cols = Math.toIntExact(w.rowLength());
        if (batch < 0 || firstRow < 0 || rows < 0 || firstRow + rows > w.rowCount()
                || xOffset < 0 || xs.length - xOffset < (long) batch * cols
                || outOffset < 0 || out.length - outOffset < (long) batch * rows) {
            throw new IllegalArgumentException("tensor " + w.name() + " [" + cols + " x " + w.rowCount() + "]: rows "
                    + firstRow + "+" + rows + ", batch " + batch + " needs " + (long) batch * cols + " inputs and "
                    + (long) batch * rows + " outputs, got " + (xs.length - xOffset) + " and " + (out.length - outOffset));
        }
        if (batch == 0) {
            return; // e.g. a prefill chunk with no position that wants logits
        }
        if (w instanceof InterleavedQ4Tensor interleaved) {
            boolean integer = switch (mode) {
                case EXACT -> false;
                case Q8_ACTIVATIONS -> true;
                case AUTO -> batch <= INTERLEAVED_AUTO_MAX_BATCH;
            };
            if (integer && firstRow % InterleavedQ4Tensor.ROWS == 0 && rows % InterleavedQ4Tensor.ROWS == 0) {
                interleavedQ8(runner, interleaved, firstRow, rows, xs, xOffset, cols, batch, out, outOffset);
                return;
            }
            w = interleaved.original();
        }
        // AUTO: no integer kernel here beats the float one
        KernelMode rowMode = mode == KernelMode.AUTO ? KernelMode.EXACT : mode;
        RowRange kernel = rowKernel(w, firstRow, rows, xs, xOffset, cols, batch, out, outOffset, rowMode);
        if ((long) rows * cols * batch < PARALLEL_THRESHOLD) {
            kernel.run(0, rows);
        } else {
            // chunks of whole register tiles, so only the last chunk has a row tail
            int step = TiledMatMul.ROWS;
            runner.parallelFor((rows + step - 1) / step, 1,
                    (start, end) -> kernel.run(start * step, Math.min(rows, end * step)));
        }
    }

    /** The 8-bit-activation product on row-interleaved Q4_0/Q4_K: parallel over whole groups of interleaved rows. */
    private static void interleavedQ8(ParallelRunner runner, InterleavedQ4Tensor w, long firstRow, int rows,
            float[] xs, int xOffset, int cols, int batch, float[] out, int outOffset) {
        w.pack(); // the first product repacks the weights here, not in each worker
        InterleavedQ4Tensor.PairedActivations x8 =
                InterleavedQ4Tensor.pair(Q8Activations.quantize(xs, xOffset, cols, batch));
        int group = InterleavedQ4Tensor.ROWS;
        if ((long) rows * cols * batch < PARALLEL_THRESHOLD) {
            w.dotRows(firstRow, rows, x8, out, outOffset, rows);
        } else {
            runner.parallelFor(rows / group, 1, (start, end) -> w.dotRows(firstRow + (long) start * group,
                    (end - start) * group, x8, out, outOffset + start * group, rows));
        }
    }

    /**
     * {@link #matmul(Tensor, float[], int, float[], KernelMode) matmul} followed by a bias, {@code nn.Linear}:
     * {@code out[b*rows + r] = row r of w · xs[b*cols ..] + bias[r]} ({@code bias} may be null).
     */
    public static void matmul(Tensor w, float[] bias, float[] xs, int batch, float[] out, KernelMode mode) {
        int rows = Math.toIntExact(w.rowCount());
        if (bias != null && bias.length != rows) {
            throw new IllegalArgumentException("tensor " + w.name() + ": bias of " + bias.length + ", expected " + rows);
        }
        matmul(ParallelRunner.shared(), w, xs, batch, out, mode);
        if (bias != null) {
            for (int b = 0; b < batch; b++) {
                VectorMath.add(bias, 0, out, b * rows, rows);
            }
        }
    }

    /** The body of a product over a range of rows: scratch memory is allocated once per range, not per row. */
    private interface RowRange {
        void run(int startRow, int endRow);
    }

    private static RowRange rowKernel(Tensor w, long firstRow, int rows, float[] xs, int xOffset, int cols, int batch,
            float[] out, int outOffset, KernelMode mode) {
        if (mode == KernelMode.Q8_ACTIVATIONS && w instanceof BlockTensor bt && isQuantized(bt)) {
            Q8Activations x8 = Q8Activations.quantize(xs, xOffset, cols, batch);
            return (start, end) -> {
                Q8Activations.Scratch scratch = new Q8Activations.Scratch(cols);
                for (int r = start; r < end; r++) {
                    x8.dotRow(bt, firstRow + r, scratch, out, outOffset + r, rows);
                }
            };
        }
        if (batch < smallestPanelBatch(w)) {
            // row-major: a weight row read from memory stays in L1 for the batch's other vectors
            return (start, end) -> {
                for (int r = start; r < end; r++) {
                    for (int b = 0; b < batch; b++) {
                        out[outOffset + b * rows + r] = w.dotRow(firstRow + r, xs, xOffset + b * cols);
                    }
                }
            };
        }
        return (start, end) -> TiledMatMul.rows(w, firstRow + start, end - start, xs, xOffset, cols, batch,
                out, outOffset + start, rows);
    }

    /**
     * The smallest exact batch worth {@link TiledMatMul}'s panels; smaller batches (MoE experts that few tokens
     * chose) take the fused per-token dot kernels. A panel decodes every weight row to float once per product, a
     * fused dot decodes in registers once per vector, so panels win from about {@code decode / (dot - FMAs)}
     * vectors on, and that ratio depends on the type's decoder and dot kernel: measured per type with
     * {@code BatchedMatmulRatios} (2048 and 8192 rows of 2048, one thread, AVX-512, with this switch forced to 2
     * so that both paths run at every batch), where the two paths break even. Unmeasured types keep panels from 2
     * vectors on.
     */
    static int smallestPanelBatch(Tensor w) {
        if (!(w instanceof BlockTensor bt)) {
            return 2;
        }
        return switch (bt.type()) {
            // Q4_0 and Q8_0: their dot kernels are the fastest per value, panels lose at 2 vectors (dot/panel time
            // about 0.8) and win from 3 (about 1.1-1.3)
            case Q4_0, Q8_0, BF16 -> 3;
            default -> 2; // Q4_K and Q6_K included: at 2 vectors their panels are 1.1-1.4x faster
        };
    }

    private static boolean isQuantized(BlockTensor w) {
        return switch (w.type()) {
            case F32, F16, BF16 -> false;
            default -> true;
        };
    }

    /** {@code out[j] += Σ_i x[i] · w[i][j]} over every row of {@code w}, on the shared runner. */
    public static void addInputMajor(Tensor w, float[] x, float[] out) {
        addInputMajor(ParallelRunner.shared(), w, 0, Math.toIntExact(w.rowCount()), x, 0, 1, out, 0);
    }

    /**
     * The input-major product for a batch: rows {@code firstRow .. firstRow+inputs)} of {@code w} are the inputs,
     * {@code width = rowLength} the outputs, and for each {@code b < batch}
     * {@code out[outOffset + b*width + j] += Σ_i x[xOffset + b*inputs + i] · w[firstRow + i][j]}, summed over
     * {@code i} in order. Column ranges are whole blocks of the tensor's type, so each thread decodes only its part
     * of a row, once for the whole batch. Zero inputs (tokens not routed to an expert) skip their row.
     */
    public static void addInputMajor(ParallelRunner runner, Tensor w, long firstRow, int inputs, float[] x,
            int xOffset, int batch, float[] out, int outOffset) {
        int width = Math.toIntExact(w.rowLength());
        if (batch < 1 || firstRow < 0 || inputs < 0 || firstRow + inputs > w.rowCount()
                || xOffset < 0 || x.length - xOffset < (long) batch * inputs
                || outOffset < 0 || out.length - outOffset < (long) batch * width) {
            throw new IllegalArgumentException("tensor " + w.name() + " [" + width + " x " + w.rowCount() + "]: rows "
                    + firstRow + "+" + inputs + ", batch " + batch + " needs " + (long) batch * inputs
                    + " inputs and " + (long) batch * width + " outputs, got " + (x.length - xOffset) + " and "
                    + (out.length - outOffset));
        }
        if (!(w instanceof BlockTensor bt) || (long) inputs * width * batch < PARALLEL_THRESHOLD) {
            addInputMajorColumns(w, null, firstRow, inputs, x, xOffset, batch, out, outOffset, 0, width);
            return;
        }
        int blockSize = bt.type().blockSize();
        runner.parallelFor(width / blockSize, Math.max(1, 64 / blockSize), (startBlock, endBlock) ->
                addInputMajorColumns(bt, bt, firstRow, inputs, x, xOffset, batch, out, outOffset,
                        startBlock * blockSize, (endBlock - startBlock) * blockSize));
    }

    /** Columns {@code start .. start+count)} of the input-major product; {@code blocks} decodes partial rows. */
    private static void addInputMajorColumns(Tensor w, BlockTensor blocks, long firstRow, int inputs, float[] x,
            int xOffset, int batch, float[] out, int outOffset, int start, int count) {
        int width = Math.toIntExact(w.rowLength());
        float[] part = new float[blocks == null ? width : count];
        int partStart = blocks == null ? start : 0;
        for (int i = 0; i < inputs; i++) {
            boolean allZero = true;
            for (int b = 0; b < batch && allZero; b++) {
                allZero = x[xOffset + b * inputs + i] == 0f;
            }
            if (allZero) {
                continue;
            }
            long row = firstRow + i;
            if (blocks == null) {
                w.dequantizeRow(row, part, 0);
            } else {
                long offset = row * blocks.rowBytes() + (long) start / blocks.type().blockSize() * blocks.type().blockBytes();
                blocks.codec().decode(blocks.data(), offset, part, 0, count);
            }
            for (int b = 0; b < batch; b++) {
                float xi = x[xOffset + b * inputs + i];
                if (xi != 0f) {
                    VectorMath.axpy(xi, part, partStart, out, outOffset + b * width + start, count);
                }
            }
        }
    }
}
