package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q6_K: 256 values in 16 groups of 16, {@code y = (d * sc) * (q - 32)} with signed 8-bit group scale and 6-bit
 * {@code q}. Layout: {@code ql[128]}, {@code qh[64]}, {@code scales[16]}, fp16 {@code d}. Each 128-value half
 * uses 64 bytes of {@code ql} (low nibbles: values 0-63, high nibbles: 64-127) and 32 bytes of {@code qh}
 * (bit pairs 0-1, 2-3, 4-5, 6-7 are the top bits of values i, 32+i, 64+i, 96+i).
 */
final class Q6KCodec extends QuantCodec {
    private static final int QL = 0;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;
    private static final QuantSearch.Grid LEVELS = new QuantSearch.IntRange(-32, 31);
    private static final QuantSearch.Grid SCALE_LEVELS = new QuantSearch.IntRange(-128, 127);

    Q6KCodec() {
        super(GgmlType.Q6_K);
    }

    @Override
    public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = QuantBits.fp16(src, offset + D);
        for (int half = 0; half < 2; half++) {
            int out = dstOffset + 128 * half;
            QuantBits.unpackNibbles(src, offset + QL + 64L * half, 64, dst, out);
            for (int quarter = 0; quarter < 4; quarter++) {
                QuantBits.addCrumbs(src, offset + QH + 32L * half, 32, 2 * quarter, 16f, dst, out + 32 * quarter);
            }
        }
        for (int group = 0; group < 16; group++) {
            float dl = d * src.get(ValueLayout.JAVA_BYTE, offset + SCALES + group);
            int out = dstOffset + 16 * group;
            for (int i = 0; i < 16; i++) {
                dst[out + i] = dl * (dst[out + i] - 32);
            }
        }
    }

    /** The fused kernel: codes unpacked in registers (see {@link SimdDot#dotQ6K}). */
    @Override
    public float dot(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        return SimdDot.dotQ6K(src, offset, x, xOffset, count);
    }

    /**
     * The fused decoder: codes unpacked in registers, bit-identical to {@link #decodeBlock} (see
     * {@link SimdDot#decodeQ6K}).
     */
    @Override
    public void decode(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        SimdDot.decodeQ6K(src, offset, dst, dstOffset, count);
    }

    @Override
    public int groupSize() {
        return 16;
    }

    @Override
    public void unpack(MemorySegment src, long offset, byte[] codes, int codeOffset, float[] scales, float[] mins,
            int groupOffset) {
        float d = QuantBits.fp16(src, offset + D);
        for (int half = 0; half < 2; half++) {
            int out = codeOffset + 128 * half;
            CodeUnpack.nibbles(src, offset + QL + 64L * half, 64, codes, out);
            for (int quarter = 0; quarter < 4; quarter++) {
                CodeUnpack.addBits(src, offset + QH + 32L * half, 32, 2 * quarter, 3, 4, codes, out + 32 * quarter);
            }
        }
        CodeUnpack.addConstant(codes, codeOffset, 256, -32);
        for (int group = 0; group < 16; group++) {
            scales[groupOffset + group] = d * src.get(ValueLayout.JAVA_BYTE, offset + SCALES + group);
            mins[groupOffset + group] = 0f;
        }
    }

    @Override
    void encodeFiniteBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
        var fit = QuantSearch.fitScaledSuperBlock(src, srcOffset, 16, 16, LEVELS, SCALE_LEVELS);
        QuantBits.putFp16(dst, offset + D, fit.d());
        for (int group = 0; group < 16; group++) {
            dst.set(ValueLayout.JAVA_BYTE, offset + SCALES + group, (byte) SCALE_LEVELS.level(fit.scaleCodes()[group]));
        }
        for (int half = 0; half < 2; half++) {
            QuantBits.packNibbles(fit.codes(), 128 * half, 64, dst, offset + QL + 64L * half);
            for (int quarter = 0; quarter < 4; quarter++) {
                QuantBits.orCrumbs(fit.codes(), 128 * half + 32 * quarter, 32, 4, 2 * quarter, dst,
                        offset + QH + 32L * half);
            }
        }
    }
}
