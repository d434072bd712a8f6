package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;

/**
 * The 32-value formats {@code y = d * level(code)} with one fp16 scale {@code d} per block: Q8_0 (levels
 * -127..127), Q4_0 (-8..7), Q5_0 (-16..15) and IQ4_NL (the non-linear IQ4 code book).
 */
final class ScaledBlockCodec extends QuantCodec {
    private final CodePlane plane;
    private final QuantSearch.Grid grid;
    /** For code books: the level of each 4-bit code, as a lookup table (null for integer ranges). */
    private final ByteVector levelTable;
    /** For integer ranges: stored integer + levelDelta = level. */
    private final int levelDelta;

    ScaledBlockCodec(GgmlType type, CodePlane plane, QuantSearch.Grid grid) {
        super(type);
        if (type.blockSize() != 32 || type.blockBytes() != 2 + plane.bytes()) {
            throw new IllegalArgumentException(type + " does not have the layout fp16 scale + " + plane);
        }
        this.plane = plane;
        this.grid = grid;
        switch (grid) {
            case QuantSearch.IntRange r -> {
                levelTable = null;
                levelDelta = plane.storedToCode() + r.lowest();
            }
            case QuantSearch.Table t -> {
                if (plane != CodePlane.NIBBLES || t.size() != 16) {
                    throw new IllegalArgumentException(type + ": code books need a 16-level nibble plane");
                }
                levelTable = CodeUnpack.table(t.levels());
                levelDelta = 0;
            }
        }
    }

    @Override
    public int groupSize() {
        return 32;
    }

    @Override
    public void unpack(MemorySegment src, long offset, byte[] codes, int codeOffset, float[] scales, float[] mins,
            int groupOffset) {
        scales[groupOffset] = QuantBits.fp16(src, offset);
        mins[groupOffset] = 0f;
        plane.readStored(src, offset + 2, codes, codeOffset);
        if (levelTable != null) {
            CodeUnpack.lookup(codes, codeOffset, 32, levelTable);
        } else if (levelDelta != 0) {
            CodeUnpack.addConstant(codes, codeOffset, 32, levelDelta);
        }
    }

    /** Q4_0 (plain nibbles on an integer grid) and Q8_0 take fused kernels; the other formats the generic one. */
    @Override
    public float dot(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        if (plane == CodePlane.NIBBLES && levelTable == null) {
            return SimdDot.dotScaledNibbles(src, offset, levelDelta, x, xOffset, count);
        }
        if (plane == CodePlane.SIGNED_BYTES && levelTable == null && levelDelta == 0) {
            return SimdDot.dotScaledBytes(src, offset, x, xOffset, count);
        }
        return super.dot(src, offset, x, xOffset, count);
    }

    /** Q4_0 and Q8_0 take fused decoders (bit-identical to {@link #decodeBlock}); the other formats the generic one. */
    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        if (plane == CodePlane.NIBBLES && levelTable == null) {
            SimdDot.decodeScaledNibbles(src, offset, levelDelta, dst, dstOffset, count);
        } else if (plane == CodePlane.SIGNED_BYTES && levelTable == null && levelDelta == 0) {
            SimdDot.decodeScaledBytes(src, offset, dst, dstOffset, count);
        } else {
            super.decode(src, offset, dst, dstOffset, count);
        }
    }

    @Override
    public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = QuantBits.fp16(src, offset);
        plane.read(src, offset + 2, dst, dstOffset);
        for (int i = 0; i < 32; i++) {
            dst[dstOffset + i] = grid.level((int) dst[dstOffset + i]) * d;
        }
    }

    @Override
    void encodeFiniteBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
        int[] codes = new int[32];
        float d = QuantBits.putFp16(dst, offset, QuantSearch.fitScale(src, srcOffset, 32, grid, codes, 0));
        QuantSearch.assign(src, srcOffset, 32, grid, d, codes, 0);
        plane.write(codes, dst, offset + 2);
    }
}
