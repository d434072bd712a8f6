package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The one shape every storage format shares: a tensor row is a run of fixed-size blocks, each block encodes
 * {@code type().blockSize()} values in {@code type().blockBytes()} bytes. A format implements decoding (and,
 * where llama4j can write it, encoding) of a single block; rows, dot products and whole tensors are built on
 * that. Fast SIMD kernels may override {@link #dot} for their type, and are tested against this default.
 */
public interface BlockCodec {

    GgmlType type();

    /** Decodes the block at byte {@code offset} of {@code src} into {@code dst[dstOffset .. +blockSize)}. */
    void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset);

    /**
     * Encodes {@code src[srcOffset .. +blockSize)} as one block at byte {@code offset} of {@code dst}.
     * The result must decode (here and in ggml) to the same values.
     */
    void encodeBlock(float[] src, int srcOffset, MemorySegment dst, long offset);

    /** Decodes {@code count} values (a whole number of blocks) starting at byte {@code offset}. */
    default void decode(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        int bs = type().blockSize();
        int bb = type().blockBytes();
        for (int i = 0; i < count; i += bs) {
            decodeBlock(src, offset, dst, dstOffset + i);
            offset += bb;
        }
    }

    /** Encodes {@code count} values (a whole number of blocks) into consecutive blocks at {@code offset}. */
    default void encode(float[] src, int srcOffset, MemorySegment dst, long offset, int count) {
        int bs = type().blockSize();
        int bb = type().blockBytes();
        for (int i = 0; i < count; i += bs) {
            encodeBlock(src, srcOffset + i, dst, offset);
            offset += bb;
        }
    }

    /**
     * Dot product of {@code count} encoded values at byte {@code offset} with {@code x[xOffset ..]}, in float32.
     * Codecs override it with SIMD kernels that equal {@link #referenceDot} up to float summation order.
     */
    default float dot(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        return referenceDot(this, src, offset, x, xOffset, count);
    }

    /**
     * The scalar reference every optimised {@link #dot} is tested against: decodes block after block with
     * {@link #decodeBlock} and accumulates {@code value * x} in one float, in index order.
     */
    static float referenceDot(BlockCodec codec, MemorySegment src, long offset, float[] x, int xOffset, int count) {
        int bs = codec.type().blockSize();
        int bb = codec.type().blockBytes();
        float[] block = new float[bs];
        float sum = 0f;
        for (int i = 0; i < count; i += bs) {
            codec.decodeBlock(src, offset, block, 0);
            for (int j = 0; j < bs; j++) {
                sum += block[j] * x[xOffset + i + j];
            }
            offset += bb;
        }
        return sum;
    }
}
