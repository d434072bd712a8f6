package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Q3_K: 256 values in 16 groups of 16, {@code y = (d * (sc - 32)) * q} with 6-bit group scale {@code sc} and
 * 3-bit signed {@code q} in -4..3. Layout: {@code hmask[32]}, {@code qs[64]}, {@code scales[12]} (see
 * {@link QuantBits#q3Scale}), fp16 {@code d}. {@code q} is the 2-bit code (arranged as in Q2_K) minus 4 when
 * its hmask bit is clear; value {@code 32k + i} of the block (k = 0..7) uses bit {@code k} of
 * {@code hmask[i]}.
 */
final class Q3KCodec extends QuantCodec {
    private static final int HMASK = 0;
    private static final int QS = 32;
    private static final int SCALES = 96;
    private static final int D = 108;
    private static final QuantSearch.Grid LEVELS = new QuantSearch.IntRange(-4, 3);
    private static final QuantSearch.Grid SCALE_LEVELS = new QuantSearch.IntRange(-32, 31);

    Q3KCodec() {
        super(GgmlType.Q3_K);
    }

    @Override
    public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = QuantBits.fp16(src, offset + D);
        for (int group = 0; group < 16; group++) {
            float dl = d * (QuantBits.q3Scale(src, offset + SCALES, group) - 32);
            int out = dstOffset + 16 * group;
            QuantBits.unpackCrumbs(src, offset + codeBytes(group), 16, codeShift(group), dst, out);
            QuantBits.addHighBits(src, offset + maskBytes(group), 16, group >>> 1, 4f, dst, out);
            for (int i = 0; i < 16; i++) {
                dst[out + i] = dl * (dst[out + i] - 4);
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
        for (int group = 0; group < 16; group++) {
            scales[groupOffset + group] = d * (QuantBits.q3Scale(src, offset + SCALES, group) - 32);
            mins[groupOffset + group] = 0f;
            int out = codeOffset + 16 * group;
            CodeUnpack.crumbs(src, offset + codeBytes(group), 16, codeShift(group), codes, out);
            CodeUnpack.addBits(src, offset + maskBytes(group), 16, group >>> 1, 1, 2, codes, out);
        }
        CodeUnpack.addConstant(codes, codeOffset, 256, -4);
    }

    private static long codeBytes(int group) {
        return QS + 32L * (group >>> 3) + 16L * (group & 1);
    }

    private static int codeShift(int group) {
        return 2 * ((group >>> 1) & 3);
    }

    private static long maskBytes(int group) {
        return HMASK + 16L * (group & 1);
    }

    @Override
    void encodeFiniteBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
        var fit = QuantSearch.fitScaledSuperBlock(src, srcOffset, 16, 16, LEVELS, SCALE_LEVELS);
        QuantBits.putFp16(dst, offset + D, fit.d());
        QuantBits.packQ3Scales(fit.scaleCodes(), dst, offset + SCALES);
        for (int group = 0; group < 16; group++) {
            // codes are level + 4 in 0..7: the low two bits go to qs, bit 2 to hmask
            QuantBits.orCrumbs(fit.codes(), 16 * group, 16, 0, codeShift(group), dst, offset + codeBytes(group));
            QuantBits.orHighBits(fit.codes(), 16 * group, 16, 2, group >>> 1, dst, offset + maskBytes(group));
        }
    }
}
