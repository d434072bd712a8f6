package org.llama4j.format.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of a safetensors header, validated. {@code begin}/{@code end} are byte offsets relative to the
 * start of the data section (right after the header), as in the file.
 *
 * @param shape dimensions in safetensors (PyTorch, row-major) order: the last one is contiguous
 */
public record TensorInfo(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Dimensions in ggml order (reversed: {@code [0]} is the contiguous row length). A 0-dimensional (scalar)
     * tensor is {@code {1}}, so that every tensor has at least one row.
     */
    public long[] ggmlShape() {
        if (shape.length == 0) {
            return new long[] {1};
        }
        long[] r = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            r[i] = shape[shape.length - 1 - i];
        }
        return r;
    }

    /** Number of elements (the header validation guarantees it does not overflow). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
