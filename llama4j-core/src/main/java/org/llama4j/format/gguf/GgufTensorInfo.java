package org.llama4j.format.gguf;

import java.util.Arrays;
import java.util.Objects;
import org.llama4j.tensor.GgmlType;

/**
 * One entry of a GGUF file's tensor table.
 *
 * @param name     the tensor's name, e.g. {@code blk.0.attn_q.weight}
 * @param type     its ggml storage type (possibly one llama4j cannot compute with, see {@link GgmlType#supported()})
 * @param shape    dimensions in ggml order: {@code shape[0]} is the contiguous row length
 * @param offset   byte offset of its data, relative to the start of the data section ({@link GgufFile#dataOffset()})
 * @param byteSize bytes its data occupies
 */
public record GgufTensorInfo(String name, GgmlType type, long[] shape, long offset, long byteSize) {

    public GgufTensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of values (the product of the dimensions; validated not to overflow when the file was opened). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && type == t.type
                && Arrays.equals(shape, t.shape) && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(shape), offset, byteSize);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape) + " @" + offset + " (" + byteSize + " bytes)";
    }
}
