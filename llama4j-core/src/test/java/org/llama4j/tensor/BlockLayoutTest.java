package org.llama4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Known-answer blocks written byte by byte from ggml's block layouts ({@code ggml-common.h}), so that the decoders'
 * layouts are pinned without fixtures (round trips alone cannot catch a layout mistake made symmetrically in the
 * encoder and the decoder). Each case sets the fields of one group that is not the first, where index mix-ups show.
 */
class BlockLayoutTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment block = MemorySegment.ofArray(new byte[300]);

    private void fp16(long offset, float v) {
        block.set(I16, offset, Float.floatToFloat16(v));
    }

    private void u8(long offset, int v) {
        block.set(ValueLayout.JAVA_BYTE, offset, (byte) v);
    }

    private float[] decode(GgmlType type) {
        float[] y = new float[type.blockSize()];
        BlockCodecs.of(type).decodeBlock(block, 0, y, 0);
        return y;
    }

    @Test
    void q4_0() {
        fp16(0, 0.5f);
        u8(2, 0x3A);
        float[] y = decode(GgmlType.Q4_0);
        assertEquals(1.0f, y[0]); // (0xA - 8) * 0.5
        assertEquals(-2.5f, y[16]); // (0x3 - 8) * 0.5
        assertEquals(-4f, y[1]);
    }

    @Test
    void q5_0() {
        fp16(0, 1f);
        u8(2 + 2, 1 << 1); // qh bit 17
        u8(6 + 1, 0x20);
        float[] y = decode(GgmlType.Q5_0);
        assertEquals(-16f, y[1]);
        assertEquals(2f, y[17]); // (2 | 16) - 16
        assertEquals(-16f, y[18]);
    }

    @Test
    void q5_1() {
        fp16(0, 2f);
        fp16(2, -1f);
        u8(4, 1); // qh bit 0
        u8(8, 0x01);
        float[] y = decode(GgmlType.Q5_1);
        assertEquals(33f, y[0]); // (1 | 16) * 2 - 1
        assertEquals(-1f, y[16]);
    }

    @Test
    void q8_0() {
        fp16(0, 0.25f);
        u8(2 + 3, -128);
        u8(2 + 31, 127);
        float[] y = decode(GgmlType.Q8_0);
        assertEquals(-32f, y[3]);
        assertEquals(31.75f, y[31]);
    }

    @Test
    void iq4_nl() {
        fp16(0, 2f);
        u8(2 + 2, 0x8F);
        float[] y = decode(GgmlType.IQ4_NL);
        assertEquals(226f, y[2]); // 2 * 113
        assertEquals(2f, y[18]); // 2 * 1
    }

    @Test
    void q2_K() {
        fp16(80, 1.5f);
        fp16(82, 0.5f);
        u8(6, 0x52); // group 6: scale 2, min 5
        u8(16, 2 << 6); // group 6 = half 0, quarter 3 (bits 6-7), first 16 bytes
        float[] y = decode(GgmlType.Q2_K);
        assertEquals(3.5f, y[96]); // (1.5 * 2) * 2 - 0.5 * 5
        assertEquals(-2.5f, y[97]);
        assertEquals(0f, y[95]);
    }

    @Test
    void q3_K() {
        fp16(108, 0.5f);
        u8(96 + 1, 0x80); // group 9: low 4 bits of its scale in the high nibble of byte 1
        u8(96 + 8 + 1, 2 << 4); // ... top 2 bits in bits 4-5 of byte 9: stored 40, scale 8
        u8(32 + 32 + 16, 3); // group 9 = half 1, quarter 0, second 16 bytes
        u8(16, 1 << 4); // hmask: byte 16 + i, bit 4 for values 128 + 16 + i
        float[] y = decode(GgmlType.Q3_K);
        assertEquals(12f, y[144]); // (0.5 * 8) * 3
        assertEquals(-16f, y[145]); // (0.5 * 8) * (0 - 4)
    }

    @Test
    void q4_K() {
        fp16(0, 1f);
        fp16(2, 1f);
        // group 5: scale 53 = 0b11_0101, min 39 = 0b10_0111
        u8(4 + 9, 0x75); // low nibbles: scale 5, min 7
        u8(4 + 1, 3 << 6); // top bits of the scale
        u8(4 + 5, 2 << 6); // top bits of the min
        u8(16 + 64, 0x90); // group 5 = high nibbles of the third 32 bytes
        float[] y = decode(GgmlType.Q4_K);
        assertEquals(438f, y[160]); // 53 * 9 - 39
        assertEquals(-39f, y[161]);
        assertEquals(0f, y[128]);
    }

    @Test
    void q5_K() {
        fp16(0, 1f);
        fp16(2, 1f);
        u8(4 + 3, 10); // group 3 scale
        u8(4 + 7, 4); // group 3 min
        u8(48 + 32, 0x70); // group 3 = high nibbles of the second 32 bytes
        u8(16, 1 << 3); // qh bit 3 of byte 0
        float[] y = decode(GgmlType.Q5_K);
        assertEquals(226f, y[96]); // 10 * (7 + 16) - 4
        assertEquals(-4f, y[97]);
    }

    @Test
    void q6_K() {
        fp16(208, 1f);
        u8(192 + 11, -3);
        u8(64 + 48, 0x05); // value 176 = half 1, index 48: low nibble of ql byte 64 + 48
        u8(128 + 32 + 16, 3 << 2); // its top bits: qh byte 128 + 32 + 16, bits 2-3 (second quarter)
        float[] y = decode(GgmlType.Q6_K);
        assertEquals(-63f, y[176]); // -3 * ((5 | 3 << 4) - 32)
        assertEquals(96f, y[177]); // -3 * (0 - 32)
    }

    @Test
    void iq4_xs() {
        fp16(0, 1f);
        u8(4 + 1, 0xB0); // group 3: low scale bits in the high nibble of scales_l[1]
        u8(2, 2 << 6); // top scale bits in bits 6-7 of scales_h: ls 43, scale 11
        u8(8 + 48, 0xF0);
        float[] y = decode(GgmlType.IQ4_XS);
        assertEquals(-1397f, y[96]); // 11 * -127
        assertEquals(1243f, y[112]); // 11 * 113
    }
}
