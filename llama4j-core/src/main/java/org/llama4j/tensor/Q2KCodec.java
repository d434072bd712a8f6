package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Q2_K: 256 values in 16 groups of 16, {@code y = (d * sc) * q - (dmin * m)} with 4-bit group scale {@code sc}
 * and min {@code m}, 2-bit {@code q}. Layout: {@code scales[16]} (low nibble scale, high nibble min),
 * {@code qs[64]}, fp16 {@code d}, fp16 {@code dmin}. Each 128-value half uses 32 bytes of {@code qs}; its four
 * 32-value quarters are bit pairs 0-1, 2-3, 4-5, 6-7 of those bytes (first 16 values from bytes 0-15, next 16
 * from bytes 16-31).
 */
final class Q2KCodec extends QuantCodec {
    private static final int SCALES = 0;
    private static final int QS = 16;
    private static final int D = 80;
    private static final int DMIN = 82;

    Q2KCodec() {
        super(GgmlType.Q2_K);
    }

    @Override
    public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = QuantBits.fp16(src, offset + D);
        float dmin = QuantBits.fp16(src, offset + DMIN);
        for (int group = 0; group < 16; group++) {
            int sc = QuantBits.u8(src, offset + SCALES + group);
            float dl = d * (sc & 0xF);
            float ml = dmin * (sc >>> 4);
            int out = dstOffset + 16 * group;
            QuantBits.unpackCrumbs(src, offset + codeBytes(group), 16, codeShift(group), dst, out);
            for (int i = 0; i < 16; i++) {
                dst[out + i] = dl * dst[out + i] - ml;
            }
        }
    }

    @Override
    public int groupSize() {
        return 16;
    }

    @Override
    public void unpack(MemorySegment src, long offset, byte[] codes, int codeOffset, float[] scales, float[] mins,
            int groupOffset) {
        float d = QuantBits.fp16(src, offset + D);
        float dmin = QuantBits.fp16(src, offset + DMIN);
        for (int group = 0; group < 16; group++) {
            int sc = QuantBits.u8(src, offset + SCALES + group);
            scales[groupOffset + group] = d * (sc & 0xF);
            mins[groupOffset + group] = dmin * (sc >>> 4);
            CodeUnpack.crumbs(src, offset + codeBytes(group), 16, codeShift(group), codes, codeOffset + 16 * group);
        }
    }

    /** Group {@code g} (values 16g..16g+15): half {@code g/8}, quarter {@code (g/2)%4}, first or second 16 bytes. */
    private static long codeBytes(int group) {
        return QS + 32L * (group >>> 3) + 16L * (group & 1);
    }

    private static int codeShift(int group) {
        return 2 * ((group >>> 1) & 3);
    }

    @Override
    void encodeFiniteBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
        var fit = QuantSearch.fitScaleMinSuperBlock(src, srcOffset, 16, 16, 3, 15);
        QuantBits.putFp16(dst, offset + D, fit.d());
        QuantBits.putFp16(dst, offset + DMIN, fit.dmin());
        for (int group = 0; group < 16; group++) {
            QuantBits.putU8(dst, offset + SCALES + group, fit.scaleCodes()[group] | fit.minCodes()[group] << 4);
            QuantBits.orCrumbs(fit.codes(), 16 * group, 16, 0, codeShift(group), dst, offset + codeBytes(group));
        }
    }
}
