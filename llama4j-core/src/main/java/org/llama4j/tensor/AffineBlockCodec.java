package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The 32-value formats {@code y = q * d + m} with an fp16 scale {@code d} and offset {@code m} per block and
 * unsigned codes {@code q}: Q4_1 (0..15) and Q5_1 (0..31).
 */
final class AffineBlockCodec extends QuantCodec {
    private final CodePlane plane;
    private final int qmax;

    AffineBlockCodec(GgmlType type, CodePlane plane, int qmax) {
        super(type);
        if (type.blockSize() != 32 || type.blockBytes() != 4 + plane.bytes()) {
            throw new IllegalArgumentException(type + " does not have the layout fp16 scale, fp16 min + " + plane);
        }
        this.plane = plane;
        this.qmax = qmax;
    }

    @Override
    public int groupSize() {
        return 32;
    }

    /** {@code q * d + m} is {@code d * q - (-m)}: negating the offset is exact. */
    @Override
    public void unpack(MemorySegment src, long offset, byte[] codes, int codeOffset, float[] scales, float[] mins,
            int groupOffset) {
        scales[groupOffset] = QuantBits.fp16(src, offset);
        mins[groupOffset] = -QuantBits.fp16(src, offset + 2);
        plane.readStored(src, offset + 4, codes, codeOffset);
    }

    @Override
    public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = QuantBits.fp16(src, offset);
        float m = QuantBits.fp16(src, offset + 2);
        plane.read(src, offset + 4, dst, dstOffset);
        for (int i = 0; i < 32; i++) {
            dst[dstOffset + i] = dst[dstOffset + i] * d + m;
        }
    }

    @Override
    void encodeFiniteBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
        int[] codes = new int[32];
        float[] fit = QuantSearch.fitAffine(src, srcOffset, 32, qmax, false, codes, 0);
        float d = QuantBits.putFp16(dst, offset, fit[0]);
        float m = QuantBits.putFp16(dst, offset + 2, fit[1]);
        QuantSearch.assignAffine(src, srcOffset, 32, qmax, d, m, codes);
        plane.write(codes, dst, offset + 4);
    }
}
