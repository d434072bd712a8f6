package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Q4_K: 256 values in 8 groups of 32, {@code y = (d * sc) * q - (dmin * m)} with 6-bit group scale and min
 * (packed as {@link QuantBits#kScale}) and 4-bit {@code q}. Layout: fp16 {@code d}, fp16 {@code dmin},
 * {@code scales[12]}, {@code qs[128]}: each 64 values use 32 bytes, low nibbles first.
 */
final class Q4KCodec extends QuantCodec {
    private static final int D = 0;
    private static final int DMIN = 2;
    private static final int SCALES = 4;
    private static final int QS = 16;

    Q4KCodec() {
        super(GgmlType.Q4_K);
    }

    @Override
    public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = QuantBits.fp16(src, offset + D);
        float dmin = QuantBits.fp16(src, offset + DMIN);
        for (int pair = 0; pair < 4; pair++) {
            QuantBits.unpackNibbles(src, offset + QS + 32L * pair, 32, dst, dstOffset + 64 * pair);
        }
        applyScaleMin(src, offset + SCALES, d, dmin, dst, dstOffset);
    }

    /** The fused kernel: nibbles unpacked in registers (see {@link SimdDot#dotQ4K}). */
    @Override
    public float dot(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        return SimdDot.dotQ4K(src, offset, x, xOffset, count);
    }

    /**
     * The fused decoder: codes unpacked in registers, bit-identical to {@link #decodeBlock} (see
     * {@link SimdDot#decodeQ4K}).
     */
    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        SimdDot.decodeQ4K(src, offset, dst, dstOffset, count);
    }

    @Override
    public int groupSize() {
        return 32;
    }

    @Override
    public void unpack(MemorySegment src, long offset, byte[] codes, int codeOffset, float[] scales, float[] mins,
            int groupOffset) {
        for (int pair = 0; pair < 4; pair++) {
            CodeUnpack.nibbles(src, offset + QS + 32L * pair, 32, codes, codeOffset + 64 * pair);
        }
        unpackScaleMin(src, offset, scales, mins, groupOffset);
    }

    /** The 8 group factors {@code d * sc} and {@code dmin * m} of a Q4_K or Q5_K block (shared with Q5_K). */
    static void unpackScaleMin(MemorySegment src, long offset, float[] scales, float[] mins, int groupOffset) {
        float d = QuantBits.fp16(src, offset + D);
        float dmin = QuantBits.fp16(src, offset + DMIN);
        for (int group = 0; group < 8; group++) {
            scales[groupOffset + group] = d * QuantBits.kScale(src, offset + SCALES, group);
            mins[groupOffset + group] = dmin * QuantBits.kMin(src, offset + SCALES, group);
        }
    }

    /** {@code y = (d * sc) * q - (dmin * m)} over the 8 groups of 32 codes in {@code dst} (shared with Q5_K). */
    static void applyScaleMin(MemorySegment src, long scalesOffset, float d, float dmin, float[] dst, int dstOffset) {
        for (int group = 0; group < 8; group++) {
            float dl = d * QuantBits.kScale(src, scalesOffset, group);
            float ml = dmin * QuantBits.kMin(src, scalesOffset, group);
            int out = dstOffset + 32 * group;
            for (int i = 0; i < 32; i++) {
                dst[out + i] = dl * dst[out + i] - ml;
            }
        }
    }

    /** Fits a block as Q4_K (qmax 15) or Q5_K (qmax 31) and stores the super scales and group scales. */
    static QuantSearch.ScaleMinSuperBlock encodeScaleMin(float[] src, int srcOffset, int qmax, MemorySegment dst,
            long offset) {
        var fit = QuantSearch.fitScaleMinSuperBlock(src, srcOffset, 8, 32, qmax, 63);
        QuantBits.putFp16(dst, offset + D, fit.d());
        QuantBits.putFp16(dst, offset + DMIN, fit.dmin());
        QuantBits.packKScales(fit.scaleCodes(), fit.minCodes(), dst, offset + SCALES);
        return fit;
    }

    @Override
    void encodeFiniteBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
        var fit = encodeScaleMin(src, srcOffset, 15, dst, offset);
        for (int pair = 0; pair < 4; pair++) {
            QuantBits.packNibbles(fit.codes(), 64 * pair, 32, dst, offset + QS + 32L * pair);
        }
    }
}
