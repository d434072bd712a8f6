package org.llama4j.kernel;

import org.llama4j.tensor.Tensor;

/**
 * A linear map {@code y = W·x} backed by (part of) a weight tensor, whichever way the checkpoint laid it out.
 *
 * <p>Most weights are stored like {@code nn.Linear}: one row per <em>output</em> ({@link RowsAreOutputs}), so an
 * output is a dot product with a row. The expert tensors of HF Llama 4 checkpoints are stored input-major
 * ({@code x @ W}): one row per <em>input</em> ({@link RowsAreInputs}), so the product is a sum of rows weighted
 * by the inputs (axpy form). Both read the tensor in place; nothing is transposed or copied at load time.
 *
 * <p>{@link #applyBatch} multiplies a batch of vectors and decodes every weight row only once for the whole
 * batch, which is what makes prefill cheaper per token than decode.
 *
 * <p>Every product takes the {@link KernelMode}: the caller (the model) decides once whether activations are
 * quantized to 8 bits, and each map passes it to the kernel of its layout. Input-major maps have no integer form
 * (llama.cpp has no such layout; an axpy over rows has no per-row dot product to do in integers) and always
 * compute exactly, as float weights do in {@link KernelMode#Q8_ACTIVATIONS}.
 */
public sealed interface LinearMap permits LinearMap.RowsAreOutputs, LinearMap.RowsAreInputs, LinearMap.Stacked {

    int inputSize();

    int outputSize();

    /** {@code y[yOff .. +outputSize) = W · x[xOff .. +inputSize)}, computed as {@code mode} says. */
    void apply(float[] x, int xOff, float[] y, int yOff, KernelMode mode);

    /**
     * {@code n} products at once: {@code x} holds {@code n} inputs back to back ({@code n·inputSize} floats),
     * {@code y} receives {@code n} outputs back to back.
     */
    void applyBatch(float[] x, float[] y, int n, KernelMode mode);

    /** Rows {@code firstRow .. firstRow+outputs) of {@code tensor}, each of {@code inputs} values, are the outputs. */
    static LinearMap rowsAreOutputs(Tensor tensor, long firstRow, int inputs, int outputs) {
        return new RowsAreOutputs(tensor, firstRow, inputs, outputs);
    }

    /** Rows {@code firstRow .. firstRow+inputs) of {@code tensor}, each of {@code outputs} values, are the inputs. */
    static LinearMap rowsAreInputs(Tensor tensor, long firstRow, int inputs, int outputs) {
        return new RowsAreInputs(tensor, firstRow, inputs, outputs);
    }

    /** Two maps over the same input whose outputs are concatenated (e.g. separate gate and up projections). */
    static LinearMap stacked(LinearMap first, LinearMap second) {
        return new Stacked(first, second);
    }

    record RowsAreOutputs(Tensor tensor, long firstRow, int inputSize, int outputSize) implements LinearMap {
        public RowsAreOutputs {
            checkRows(tensor, firstRow, outputSize, inputSize);
        }

        @Override
        public void apply(float[] x, int xOff, float[] y, int yOff, KernelMode mode) {
            Kernels.matmul(ParallelRunner.shared(), tensor, firstRow, outputSize, x, xOff, 1, y, yOff, mode);
        }

        @Override
        public void applyBatch(float[] x, float[] y, int n, KernelMode mode) {
            Kernels.matmul(ParallelRunner.shared(), tensor, firstRow, outputSize, x, 0, n, y, 0, mode);
        }
    }

    record RowsAreInputs(Tensor tensor, long firstRow, int inputSize, int outputSize) implements LinearMap {
        public RowsAreInputs {
            checkRows(tensor, firstRow, inputSize, outputSize);
        }

        /** Exact whatever {@code mode} says: see the interface comment. */
        @Override
        public void apply(float[] x, int xOff, float[] y, int yOff, KernelMode mode) {
            java.util.Objects.requireNonNull(mode, "mode");
            java.util.Arrays.fill(y, yOff, yOff + outputSize, 0f);
            Kernels.addInputMajor(ParallelRunner.shared(), tensor, firstRow, inputSize, x, xOff, 1, y, yOff);
        }

        /** Exact whatever {@code mode} says: see the interface comment. */
        @Override
        public void applyBatch(float[] x, float[] y, int n, KernelMode mode) {
            java.util.Objects.requireNonNull(mode, "mode");
            java.util.Arrays.fill(y, 0, n * outputSize, 0f);
            Kernels.addInputMajor(ParallelRunner.shared(), tensor, firstRow, inputSize, x, 0, n, y, 0);
        }
    }

    record Stacked(LinearMap first, LinearMap second) implements LinearMap {
        public Stacked {
            if (first.inputSize() != second.inputSize()) {
                throw new IllegalArgumentException("stacked maps need the same input size: "
                        + first.inputSize() + " vs " + second.inputSize());
            }
        }

        @Override
        public int inputSize() {
            return first.inputSize();
        }

        @Override
        public int outputSize() {
            return first.outputSize() + second.outputSize();
        }

        @Override
        public void apply(float[] x, int xOff, float[] y, int yOff, KernelMode mode) {
            first.apply(x, xOff, y, yOff, mode);
            second.apply(x, xOff, y, yOff + first.outputSize(), mode);
        }

        @Override
        public void applyBatch(float[] x, float[] y, int n, KernelMode mode) {
            int a = first.outputSize();
            int b = second.outputSize();
            float[] ya = new float[n * a];
            float[] yb = new float[n * b];
            first.applyBatch(x, ya, n, mode);
            second.applyBatch(x, yb, n, mode);
            for (int t = 0; t < n; t++) {
                System.arraycopy(ya, t * a, y, t * (a + b), a);
                System.arraycopy(yb, t * b, y, t * (a + b) + a, b);
            }
        }
    }

    private static void checkRows(Tensor tensor, long firstRow, int rows, int rowLength) {
        if (tensor.rowLength() != rowLength) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": rows of " + tensor.rowLength()
                    + " values, expected " + rowLength);
        }
        if (firstRow < 0 || firstRow + rows > tensor.rowCount()) {
            throw new IllegalArgumentException("tensor " + tensor.name() + ": rows " + firstRow + ".."
                    + (firstRow + rows) + " out of " + tensor.rowCount());
        }
    }
}
