package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A tensor stored as ggml blocks in a memory segment (usually a slice of a memory-mapped GGUF or safetensors
 * file; for generated data, a heap segment). Rows are contiguous runs of blocks.
 */
public record BlockTensor(String name, GgmlType type, long[] shape, MemorySegment data) implements Tensor {

    public BlockTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = shape.clone();
        if (!type.supported()) {
            throw new UnsupportedOperationException("tensor " + name + ": type " + type + " is not supported by llama4j");
        }
        if (shape.length == 0 || shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + (shape.length == 0 ? 0 : shape[0])
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension");
            }
            elements = Math.multiplyExact(elements, d);
        }
        long bytes = type.byteSize(elements);
        if (bytes < 0 || data.byteSize() != bytes) {
            throw new IllegalArgumentException("tensor " + name + ": " + type + " data of " + data.byteSize()
                    + " bytes, expected " + bytes + " for shape " + java.util.Arrays.toString(shape));
        }
    }

    public static BlockTensor ofFloats(String name, float[] values, long... shape) {
        MemorySegment seg = MemorySegment.ofArray(values);
        return new BlockTensor(name, GgmlType.F32, shape, seg);
    }

    /** Quantizes {@code values} (row after row, ggml shape order) into a new tensor of {@code type}. */
    public static BlockTensor quantize(String name, GgmlType type, float[] values, long... shape) {
        return new BlockTensor(name, type, shape, BlockCodecs.quantize(values, type));
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String typeName() {
        return type.name();
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    public BlockCodec codec() {
        return BlockCodecs.of(type);
    }

    /** Bytes one row occupies. */
    public long rowBytes() {
        return shape[0] / type.blockSize() * type.blockBytes();
    }

    @Override
    public void dequantizeRow(long row, float[] dst, int dstOffset) {
        codec().decode(data, row * rowBytes(), dst, dstOffset, Math.toIntExact(shape[0]));
    }

    @Override
    public float dotRow(long row, float[] x, int xOffset) {
        return codec().dot(data, row * rowBytes(), x, xOffset, Math.toIntExact(shape[0]));
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + java.util.Arrays.toString(shape);
    }
}
