package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** How the 32 codes of a legacy (32-value) block are stored after its fp16 scale (and offset). */
enum CodePlane {
    /** 16 bytes of 4-bit codes, low nibbles first (Q4_0, Q4_1, IQ4_NL). */
    NIBBLES(16) {
        @Override
        void read(MemorySegment src, long offset, float[] dst, int dstOffset) {
            QuantBits.unpackNibbles(src, offset, 16, dst, dstOffset);
        }

        @Override
        void write(int[] codes, MemorySegment dst, long offset) {
            QuantBits.packNibbles(codes, 0, 16, dst, offset);
        }

        @Override
        void readStored(MemorySegment src, long offset, byte[] dst, int d) {
            CodeUnpack.nibbles(src, offset, 16, dst, d);
        }
    },
    /** A 32-bit word of fifth bits, then 16 bytes of low nibbles (Q5_0, Q5_1). */
    NIBBLES_WITH_HIGH_BITS(20) {
        @Override
        void read(MemorySegment src, long offset, float[] dst, int dstOffset) {
            QuantBits.unpackNibbles(src, offset + 4, 16, dst, dstOffset);
            QuantBits.addHighBits32(src.get(I32, offset), dst, dstOffset);
        }

        @Override
        void write(int[] codes, MemorySegment dst, long offset) {
            dst.set(I32, offset, QuantBits.highBits32(codes, 0));
            QuantBits.packNibbles(codes, 0, 16, dst, offset + 4);
        }

        @Override
        void readStored(MemorySegment src, long offset, byte[] dst, int d) {
            CodeUnpack.nibbles(src, offset + 4, 16, dst, d);
            CodeUnpack.addHighBits32(src.get(I32, offset), dst, d);
        }
    },
    /**
     * 32 signed bytes (Q8_0). Codes are the byte plus 127, matching the grid -127..127 the encoder uses (ggml's
     * Q8_0 never stores -128; a byte of -128 from another writer decodes to code -1, level -128, as in ggml).
     */
    SIGNED_BYTES(32) {
        @Override
        void read(MemorySegment src, long offset, float[] dst, int dstOffset) {
            for (int i = 0; i < 32; i++) {
                dst[dstOffset + i] = src.get(ValueLayout.JAVA_BYTE, offset + i) + 127;
            }
        }

        @Override
        void write(int[] codes, MemorySegment dst, long offset) {
            for (int i = 0; i < 32; i++) {
                dst.set(ValueLayout.JAVA_BYTE, offset + i, (byte) (codes[i] - 127));
            }
        }

        @Override
        int storedToCode() {
            return 127;
        }

        @Override
        void readStored(MemorySegment src, long offset, byte[] dst, int d) {
            CodeUnpack.copy(src, offset, 32, dst, d);
        }
    };

    private static final ValueLayout.OfInt I32 =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final int bytes;

    CodePlane(int bytes) {
        this.bytes = bytes;
    }

    int bytes() {
        return bytes;
    }

    /** Writes the 32 codes (as exact small floats) to {@code dst[dstOffset..+32)}. */
    abstract void read(MemorySegment src, long offset, float[] dst, int dstOffset);

    abstract void write(int[] codes, MemorySegment dst, long offset);

    /**
     * Writes the 32 stored integers to {@code dst[d..+32)} as bytes: the code minus {@link #storedToCode()}
     * (so that Q8_0's signed bytes fit a byte).
     */
    abstract void readStored(MemorySegment src, long offset, byte[] dst, int d);

    /** What to add to a stored integer to get the code {@link #read} produces. */
    int storedToCode() {
        return 0;
    }
}
