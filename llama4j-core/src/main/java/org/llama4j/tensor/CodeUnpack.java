package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized unpacking of ggml's code planes into one signed byte per value (the {@link GroupedCodes} view).
 * Works 16 bytes at a time: every plane in ggml's formats is a multiple of 16 bytes long, and 16 byte lanes are
 * one {@code vpshufb} table for the IQ4 code book lookup.
 */
final class CodeUnpack {
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private CodeUnpack() {
    }

    private static ByteVector load(MemorySegment src, long offset) {
        return ByteVector.fromMemorySegment(B16, src, offset, LE);
    }

    /**
     * Each byte shifted right by {@code shift}, with garbage from the neighbouring byte in the top bits: callers
     * mask. x86 has no byte-lane shifts, 16-bit lanes shift in one instruction.
     */
    private static ByteVector shiftRightUnmasked(ByteVector v, int shift) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, shift).reinterpretAsBytes();
    }

    /**
     * The nibble plane of {@link QuantBits#unpackNibbles}: {@code bytes} bytes give low nibbles to
     * {@code dst[d .. d+bytes)} and high nibbles to {@code dst[d+bytes .. d+2*bytes)}.
     */
    static void nibbles(MemorySegment src, long offset, int bytes, byte[] dst, int d) {
        for (int i = 0; i < bytes; i += 16) {
            ByteVector v = load(src, offset + i);
            v.and((byte) 0x0F).intoArray(dst, d + i);
            shiftRightUnmasked(v, 4).and((byte) 0x0F).intoArray(dst, d + bytes + i);
        }
    }

    /** Copies {@code count} bytes (vector loads beat a bulk copy call for a 32-byte block). */
    static void copy(MemorySegment src, long offset, int count, byte[] dst, int d) {
        for (int i = 0; i < count; i += 16) {
            load(src, offset + i).intoArray(dst, d + i);
        }
    }

    /** Sets {@code dst[d+i] = (byte[offset+i] >>> shift) & 3}: a 2-bit plane (Q2_K, Q3_K). */
    static void crumbs(MemorySegment src, long offset, int count, int shift, byte[] dst, int d) {
        for (int i = 0; i < count; i += 16) {
            shiftRightUnmasked(load(src, offset + i), shift).and((byte) 3).intoArray(dst, d + i);
        }
    }

    /** Adds {@code ((byte[offset+i] >>> shift) & mask) << weightShift} to {@code dst[d+i]}: high-bit planes. */
    static void addBits(MemorySegment src, long offset, int count, int shift, int mask, int weightShift,
            byte[] dst, int d) {
        for (int i = 0; i < count; i += 16) {
            // (mask << weightShift) stays below 256: the left shift moves no bits into the next byte
            ByteVector bits = shiftRightUnmasked(load(src, offset + i), shift).and((byte) mask).reinterpretAsShorts()
                    .lanewise(VectorOperators.LSHL, weightShift).reinterpretAsBytes();
            ByteVector.fromArray(B16, dst, d + i).add(bits).intoArray(dst, d + i);
        }
    }

    /** Adds {@code delta} to {@code dst[d .. d+count)}: re-centres unsigned codes on the format's levels. */
    static void addConstant(byte[] dst, int d, int count, int delta) {
        for (int i = 0; i < count; i += 16) {
            ByteVector.fromArray(B16, dst, d + i).add((byte) delta).intoArray(dst, d + i);
        }
    }

    /** Replaces each code {@code c} (0..15) of {@code dst[d .. d+count)} by {@code table[c]}. */
    static void lookup(byte[] dst, int d, int count, ByteVector table) {
        for (int i = 0; i < count; i += 16) {
            ByteVector.fromArray(B16, dst, d + i).selectFrom(table).intoArray(dst, d + i);
        }
    }

    /** A 16-entry byte table for {@link #lookup}. */
    static ByteVector table(int[] levels) {
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) {
            b[i] = (byte) levels[i];
        }
        return ByteVector.fromArray(B16, b, 0);
    }

    /** Q5_0/Q5_1's 32-bit word of fifth bits: adds 16 to code {@code i} when bit {@code i} is set. */
    static void addHighBits32(int qh, byte[] dst, int d) {
        for (int i = 0; i < 32; i++) {
            dst[d + i] += (byte) (((qh >>> i) & 1) << 4);
        }
    }
}
