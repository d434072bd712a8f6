package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Base of the quantized formats: owns the type and the checks every encoder needs (finite input, a block that
 * starts zeroed so encoders can OR bit planes into it). Decoders reproduce ggml's {@code dequantize_row_*}
 * bit for bit, including the order of the float operations, and are the reference that SIMD {@link #dot}
 * kernels are tested against.
 */
abstract class QuantCodec implements GroupedCodes {
    private final GgmlType type;

    QuantCodec(GgmlType type) {
        this.type = type;
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public final void encodeBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
        QuantBits.requireFinite(src, srcOffset, type.blockSize(), type);
        QuantBits.zero(dst, offset, type.blockBytes());
        encodeFiniteBlock(src, srcOffset, dst, offset);
    }

    /** Encodes finite values into a zeroed block. */
    abstract void encodeFiniteBlock(float[] src, int srcOffset, MemorySegment dst, long offset);

    /** Vectorized: unpacks each block to codes and accumulates {@code (scale * code - min) * x} in float lanes. */
    @Override
    public float dot(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        return SimdDot.dotGrouped(this, src, offset, x, xOffset, count);
    }

    /** Vectorized, and bit-identical to {@link #decodeBlock} (same float operations per value). */
    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        SimdDot.decodeGrouped(this, src, offset, dst, dstOffset, count);
    }

    @Override
    public String toString() {
        return type + " codec";
    }
}
