package org.llama4j.tensor;

import java.util.function.LongUnaryOperator;

/**
 * A zero-copy view of a matrix with its rows in another order: row {@code r} of the view is row
 * {@code sourceRow(r)} of {@code base}. Rows are decoded by {@code base}, so every storage type (and its fast
 * paths) works unchanged. Used to undo a row permutation a checkpoint converter applied, without copying or
 * re-quantizing the weights.
 *
 * @param sourceRow a bijection on {@code 0 .. base.rowCount()-1}
 */
public record RemappedRowsTensor(Tensor base, LongUnaryOperator sourceRow) implements Tensor {

    @Override
    public String name() {
        return base.name();
    }

    @Override
    public String typeName() {
        return base.typeName();
    }

    @Override
    public long[] shape() {
        return base.shape();
    }

    @Override
    public long byteSize() {
        return base.byteSize();
    }

    @Override
    public void dequantizeRow(long row, float[] dst, int dstOffset) {
        base.dequantizeRow(sourceRow.applyAsLong(row), dst, dstOffset);
    }

    @Override
    public float dotRow(long row, float[] x, int xOffset) {
        return base.dotRow(sourceRow.applyAsLong(row), x, xOffset);
    }
}
