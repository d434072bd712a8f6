package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Q5_K: Q4_K with a fifth code bit. Layout: fp16 {@code d}, fp16 {@code dmin}, {@code scales[12]},
 * {@code qh[32]}, {@code qs[128]}; value {@code 32k + i} (k = 0..7) takes bit 4 from bit {@code k} of
 * {@code qh[i]}.
 */
final class Q5KCodec extends QuantCodec {
    private static final int SCALES = 4;
    private static final int QH = 16;
    private static final int QS = 48;

    Q5KCodec() {
        super(GgmlType.Q5_K);
    }

    @Override
    public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = QuantBits.fp16(src, offset);
        float dmin = QuantBits.fp16(src, offset + 2);
        for (int pair = 0; pair < 4; pair++) {
            QuantBits.unpackNibbles(src, offset + QS + 32L * pair, 32, dst, dstOffset + 64 * pair);
        }
        for (int group = 0; group < 8; group++) {
            QuantBits.addHighBits(src, offset + QH, 32, group, 16f, dst, dstOffset + 32 * group);
        }
        Q4KCodec.applyScaleMin(src, offset + SCALES, d, dmin, dst, dstOffset);
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
        for (int group = 0; group < 8; group++) {
            CodeUnpack.addBits(src, offset + QH, 32, group, 1, 4, codes, codeOffset + 32 * group);
        }
        Q4KCodec.unpackScaleMin(src, offset, scales, mins, groupOffset);
    }

    @Override
    void encodeFiniteBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
        var fit = Q4KCodec.encodeScaleMin(src, srcOffset, 31, dst, offset);
        for (int pair = 0; pair < 4; pair++) {
            QuantBits.packNibbles(fit.codes(), 64 * pair, 32, dst, offset + QS + 32L * pair);
        }
        for (int group = 0; group < 8; group++) {
            QuantBits.orHighBits(fit.codes(), 32 * group, 32, 4, group, dst, offset + QH);
        }
    }
}
