package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * IQ4_XS: 256 values in 8 groups of 32, {@code y = (d * (ls - 32)) * IQ4_VALUES[code]} with a 6-bit group scale
 * {@code ls} and 4-bit codes into the IQ4 code book. Layout: fp16 {@code d}, {@code scales_h} (u16: bits
 * 2g..2g+1 are the top bits of {@code ls} of group g), {@code scales_l[4]} (nibble g%2 of byte g/2: the low
 * bits), {@code qs[128]} (16 bytes per group, low nibbles first).
 */
final class IQ4XSCodec extends QuantCodec {
    private static final int D = 0;
    private static final int SCALES_H = 2;
    private static final int SCALES_L = 4;
    private static final int QS = 8;
    static final QuantSearch.Grid LEVELS = new QuantSearch.Table(QuantBits.IQ4_VALUES);
    private static final QuantSearch.Grid SCALE_LEVELS = new QuantSearch.IntRange(-32, 31);

    IQ4XSCodec() {
        super(GgmlType.IQ4_XS);
    }

    @Override
    public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = QuantBits.fp16(src, offset + D);
        int scalesHigh = Short.toUnsignedInt(src.get(BlockCodecs.I16, offset + SCALES_H));
        for (int group = 0; group < 8; group++) {
            int low = (QuantBits.u8(src, offset + SCALES_L + group / 2) >>> (4 * (group % 2))) & 0xF;
            int ls = low | ((scalesHigh >>> (2 * group)) & 3) << 4;
            float dl = d * (ls - 32);
            int out = dstOffset + 32 * group;
            QuantBits.unpackNibbles(src, offset + QS + 16L * group, 16, dst, out);
            for (int i = 0; i < 32; i++) {
                dst[out + i] = dl * LEVELS.level((int) dst[out + i]);
            }
        }
    }

    private static final jdk.incubator.vector.ByteVector LEVEL_TABLE = CodeUnpack.table(QuantBits.IQ4_VALUES);

    @Override
    public int groupSize() {
        return 32;
    }

    @Override
    public void unpack(MemorySegment src, long offset, byte[] codes, int codeOffset, float[] scales, float[] mins,
            int groupOffset) {
        float d = QuantBits.fp16(src, offset + D);
        int scalesHigh = Short.toUnsignedInt(src.get(BlockCodecs.I16, offset + SCALES_H));
        for (int group = 0; group < 8; group++) {
            int low = (QuantBits.u8(src, offset + SCALES_L + group / 2) >>> (4 * (group % 2))) & 0xF;
            int ls = low | ((scalesHigh >>> (2 * group)) & 3) << 4;
            scales[groupOffset + group] = d * (ls - 32);
            mins[groupOffset + group] = 0f;
            CodeUnpack.nibbles(src, offset + QS + 16L * group, 16, codes, codeOffset + 32 * group);
        }
        CodeUnpack.lookup(codes, codeOffset, 256, LEVEL_TABLE);
    }

    @Override
    void encodeFiniteBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
        var fit = QuantSearch.fitScaledSuperBlock(src, srcOffset, 8, 32, LEVELS, SCALE_LEVELS);
        QuantBits.putFp16(dst, offset + D, fit.d());
        int scalesHigh = 0;
        for (int group = 0; group < 8; group++) {
            int ls = fit.scaleCodes()[group];
            scalesHigh |= (ls >>> 4) << (2 * group);
            long lowByte = offset + SCALES_L + group / 2;
            QuantBits.putU8(dst, lowByte, QuantBits.u8(dst, lowByte) | (ls & 0xF) << (4 * (group % 2)));
            QuantBits.packNibbles(fit.codes(), 32 * group, 16, dst, offset + QS + 16L * group);
        }
        dst.set(BlockCodecs.I16, offset + SCALES_H, (short) scalesHigh);
    }
}
