package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The bit-level pieces ggml's block formats share, each written once: fp16 scales, 4-bit (nibble), 2-bit and
 * single high-bit code planes, the 6-bit scale/min packing of Q4_K/Q5_K, the 6-bit signed scales of Q3_K and the
 * non-linear IQ4 code book.
 *
 * <p>Unpackers write small integer codes into a {@code float[]} (exactly representable), so a codec decodes in
 * place without scratch arrays and then applies its scale with the same float operations as ggml's
 * {@code dequantize_row_*}.
 */
final class QuantBits {
    private QuantBits() {
    }

    /**
     * Where the 16 two-bit codes of group {@code g} (values {@code 16g .. 16g+15}) of a Q2_K or Q3_K block sit in
     * its 64 code bytes: half {@code g/8} (32 bytes each), first or second 16 bytes by {@code g % 2}...
     */
    static long crumbGroupBytes(int group) {
        return 32L * (group >>> 3) + 16L * (group & 1);
    }

    /** ...and at which bit: the four crumbs of a byte are quarters {@code (g/2) % 4} of the half. */
    static int crumbGroupShift(int group) {
        return 2 * ((group >>> 1) & 3);
    }

    /** The 16 values of ggml's IQ4_NL / IQ4_XS code book ({@code kvalues_iq4nl}), ascending. */
    static final int[] IQ4_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    static float fp16(MemorySegment src, long offset) {
        return Float.float16ToFloat(src.get(BlockCodecs.I16, offset));
    }

    /**
     * Stores {@code value} as fp16 (round to nearest even, as ggml's {@code GGML_FP32_TO_FP16}) and returns the
     * value a decoder will read back, which is what the codes must be chosen against. Values beyond the fp16
     * range saturate to ±65504 instead of becoming infinite, so the block stays decodable.
     */
    static float putFp16(MemorySegment dst, long offset, float value) {
        short h = Float.floatToFloat16(Math.clamp(value, -65504f, 65504f));
        dst.set(BlockCodecs.I16, offset, h);
        return Float.float16ToFloat(h);
    }

    /** What {@link #putFp16} would store, without storing it. */
    static float roundFp16(float value) {
        return Float.float16ToFloat(Float.floatToFloat16(Math.clamp(value, -65504f, 65504f)));
    }

    static int u8(MemorySegment src, long offset) {
        return Byte.toUnsignedInt(src.get(ValueLayout.JAVA_BYTE, offset));
    }

    static void putU8(MemorySegment dst, long offset, int value) {
        dst.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    /**
     * ggml's nibble plane: {@code bytes} bytes hold {@code 2*bytes} 4-bit codes, the low nibbles being codes
     * {@code 0..bytes-1} and the high nibbles codes {@code bytes..2*bytes-1}.
     */
    static void unpackNibbles(MemorySegment src, long offset, int bytes, float[] dst, int dstOffset) {
        for (int i = 0; i < bytes; i++) {
            int b = u8(src, offset + i);
            dst[dstOffset + i] = b & 0xF;
            dst[dstOffset + bytes + i] = b >>> 4;
        }
    }

    /** Inverse of {@link #unpackNibbles}: only the low 4 bits of each code are stored. */
    static void packNibbles(int[] codes, int codeOffset, int bytes, MemorySegment dst, long offset) {
        for (int i = 0; i < bytes; i++) {
            putU8(dst, offset + i, (codes[codeOffset + i] & 0xF) | (codes[codeOffset + bytes + i] & 0xF) << 4);
        }
    }

    /**
     * A 2-bit plane (Q2_K/Q3_K codes, Q6_K's top bits): adds {@code weight} times bits {@code shift..shift+1} of
     * byte {@code i} to {@code dst[dstOffset + i]}, for {@code count} consecutive bytes.
     */
    static void addCrumbs(MemorySegment src, long offset, int count, int shift, float weight, float[] dst, int dstOffset) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] += ((u8(src, offset + i) >>> shift) & 3) * weight;
        }
    }

    /** Like {@link #addCrumbs} with weight 1, overwriting {@code dst}. */
    static void unpackCrumbs(MemorySegment src, long offset, int count, int shift, float[] dst, int dstOffset) {
        java.util.Arrays.fill(dst, dstOffset, dstOffset + count, 0f);
        addCrumbs(src, offset, count, shift, 1f, dst, dstOffset);
    }

    /**
     * Inverse of {@link #addCrumbs}: ORs bits {@code codeShift..codeShift+1} of each of {@code count} codes into
     * bits {@code shift..shift+1} of consecutive bytes.
     */
    static void orCrumbs(int[] codes, int codeOffset, int count, int codeShift, int shift, MemorySegment dst, long offset) {
        for (int i = 0; i < count; i++) {
            putU8(dst, offset + i, u8(dst, offset + i) | ((codes[codeOffset + i] >>> codeShift) & 3) << shift);
        }
    }

    /**
     * A bit plane of bytes (Q5_K's {@code qh}, Q3_K's {@code hmask}): adds {@code weight} to code {@code i} when bit
     * {@code bit} of byte {@code i} is set.
     */
    static void addHighBits(MemorySegment src, long offset, int count, int bit, float weight, float[] dst, int dstOffset) {
        for (int i = 0; i < count; i++) {
            if ((u8(src, offset + i) & (1 << bit)) != 0) {
                dst[dstOffset + i] += weight;
            }
        }
    }

    /** Sets bit {@code bit} of byte {@code i} when bit {@code codeBit} of code {@code i} is set. */
    static void orHighBits(int[] codes, int codeOffset, int count, int codeBit, int bit, MemorySegment dst, long offset) {
        for (int i = 0; i < count; i++) {
            if ((codes[codeOffset + i] & (1 << codeBit)) != 0) {
                putU8(dst, offset + i, u8(dst, offset + i) | 1 << bit);
            }
        }
    }

    /** The 32-bit little-endian high-bit word of Q5_0/Q5_1: bit {@code i} is bit 4 of code {@code i}. */
    static void addHighBits32(int qh, float[] dst, int dstOffset) {
        for (int i = 0; i < 32; i++) {
            dst[dstOffset + i] += ((qh >>> i) & 1) << 4;
        }
    }

    static int highBits32(int[] codes, int codeOffset) {
        int qh = 0;
        for (int i = 0; i < 32; i++) {
            qh |= ((codes[codeOffset + i] >>> 4) & 1) << i;
        }
        return qh;
    }

    /**
     * Q4_K/Q5_K pack 8 scales and 8 mins of 6 bits into 12 bytes ({@code get_scale_min_k4}): entries 0-3 are
     * the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); entries 4-7 take their low 4 bits from the nibbles
     * of bytes 8-11 and their top 2 bits from the top bits of bytes 0-3 (scales) and 4-7 (mins).
     */
    static int kScale(MemorySegment src, long offset, int j) {
        return j < 4
                ? u8(src, offset + j) & 63
                : (u8(src, offset + j + 4) & 0xF) | (u8(src, offset + j - 4) >>> 6) << 4;
    }

    /** The min half of {@link #kScale}'s packing. */
    static int kMin(MemorySegment src, long offset, int j) {
        return j < 4
                ? u8(src, offset + j + 4) & 63
                : (u8(src, offset + j + 4) >>> 4) | (u8(src, offset + j) >>> 6) << 4;
    }

    /** Inverse of {@link #kScale}/{@link #kMin} for 8 scales and mins in 0..63. */
    static void packKScales(int[] scales, int[] mins, MemorySegment dst, long offset) {
        for (int j = 0; j < 4; j++) {
            putU8(dst, offset + j, scales[j] & 63 | (scales[j + 4] >>> 4) << 6);
            putU8(dst, offset + j + 4, mins[j] & 63 | (mins[j + 4] >>> 4) << 6);
            putU8(dst, offset + j + 8, scales[j + 4] & 0xF | (mins[j + 4] & 0xF) << 4);
        }
    }

    /**
     * Q3_K's 16 scales of 6 bits in 12 bytes: the low 4 bits of scale {@code j} are the low (j < 8) or high
     * (j >= 8) nibble of byte {@code j % 8}; the top 2 bits are bits {@code 2*(j/4)..} of byte {@code 8 + j%4}.
     * Returned as stored (0..63); the scale is that minus 32.
     */
    static int q3Scale(MemorySegment src, long offset, int j) {
        int low = (u8(src, offset + (j & 7)) >>> (j < 8 ? 0 : 4)) & 0xF;
        int high = (u8(src, offset + 8 + (j & 3)) >>> (2 * (j >>> 2))) & 3;
        return low | high << 4;
    }

    /** Inverse of {@link #q3Scale} for 16 stored scales in 0..63. */
    static void packQ3Scales(int[] stored, MemorySegment dst, long offset) {
        for (int i = 0; i < 12; i++) {
            putU8(dst, offset + i, 0);
        }
        for (int j = 0; j < 16; j++) {
            long lowByte = offset + (j & 7);
            putU8(dst, lowByte, u8(dst, lowByte) | (stored[j] & 0xF) << (j < 8 ? 0 : 4));
            long highByte = offset + 8 + (j & 3);
            putU8(dst, highByte, u8(dst, highByte) | ((stored[j] >>> 4) & 3) << (2 * (j >>> 2)));
        }
    }

    static void zero(MemorySegment dst, long offset, int bytes) {
        dst.asSlice(offset, bytes).fill((byte) 0);
    }

    /** Rejects NaN and infinite inputs: no ggml block can represent them, and they would poison a whole block. */
    static void requireFinite(float[] src, int offset, int count, GgmlType type) {
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(src[offset + i])) {
                throw new IllegalArgumentException("cannot quantize non-finite value " + src[offset + i]
                        + " at index " + (offset + i) + " to " + type);
            }
        }
    }
}
