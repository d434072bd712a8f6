package org.llama4j.tensor;

/**
 * A read-only tensor of model weights in its storage format (f32, bf16, a ggml quant type, row-scaled fp8,
 * ...), usually a zero-copy view over a memory-mapped file.
 *
 * <p>Shapes use ggml's order everywhere in llama4j: {@code shape()[0]} is the contiguous (fastest-varying)
 * dimension, i.e. the row length; the remaining dimensions multiply into the number of rows. A PyTorch/
 * safetensors weight of shape {@code [out, in]} therefore has {@code shape() = {in, out}}: {@code out} rows of
 * {@code in} values, and {@code dotRow(r, x)} is output {@code r} of the matrix-vector product.
 */
public interface Tensor {

    String name();

    /** The storage type as users know it: "F32", "BF16", "Q4_K", "F8_E4M3", ... */
    String typeName();

    /** Dimensions in ggml order (see the class comment). Never modified by callers. */
    long[] shape();

    /** Bytes the tensor's data occupies in its file. */
    long byteSize();

    /** Decodes row {@code row} (of {@link #rowLength()} values) into {@code dst[dstOffset ...]}. */
    void dequantizeRow(long row, float[] dst, int dstOffset);

    /** Dot product of row {@code row} with {@code x[xOffset ... xOffset + rowLength())}, accumulated in float32. */
    float dotRow(long row, float[] x, int xOffset);

    default long rowLength() {
        return shape()[0];
    }

    default long rowCount() {
        long[] s = shape();
        long rows = 1;
        for (int i = 1; i < s.length; i++) {
            rows = Math.multiplyExact(rows, s[i]);
        }
        return rows;
    }

    default long elementCount() {
        return Math.multiplyExact(rowLength(), rowCount());
    }

    /** All values, row after row. Only for tensors that fit in one Java array. */
    default float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor " + name() + " has " + n + " values, too many for one float[]");
        }
        float[] out = new float[(int) n];
        int len = Math.toIntExact(rowLength());
        long rows = rowCount();
        for (long r = 0; r < rows; r++) {
            dequantizeRow(r, out, (int) (r * len));
        }
        return out;
    }
}
