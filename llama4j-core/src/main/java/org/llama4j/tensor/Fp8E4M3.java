package org.llama4j.tensor;

/**
 * The OCP FP8 E4M3 "fn" encoding (PyTorch {@code float8_e4m3fn}, safetensors {@code F8_E4M3}): 1 sign bit,
 * 4 exponent bits with bias 7, 3 mantissa bits. Unlike IEEE types it has no infinities; only {@code S.1111.111}
 * (0x7f, 0xff) is NaN, so exponent 15 still holds normal numbers and the largest finite value is 448.
 * Exponent 0 encodes subnormals {@code m/8 · 2^-6}.
 */
public final class Fp8E4M3 {
    /** Largest finite magnitude. */
    public static final float MAX = 448f;

    private static final float[] DECODE = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            DECODE[b] = decodeBits(b);
        }
    }

    private Fp8E4M3() {
    }

    /** Builds the float32 bit pattern of an E4M3 value (the lookup table is filled from this). */
    private static float decodeBits(int b) {
        int sign = (b & 0x80) << 24;
        int exp = (b >>> 3) & 0xf;
        int mant = b & 0x7;
        if (exp == 0xf && mant == 0x7) {
            return Float.intBitsToFloat(sign | 0x7fc00000);
        }
        if (exp == 0) {
            // Subnormal: mant · 2^-9, exact in float32.
            float magnitude = Math.scalb((float) mant, -9);
            return sign != 0 ? -magnitude : magnitude;
        }
        // Normal: rebias the exponent (7 → 127) and left-align the 3 mantissa bits in float32's 23.
        return Float.intBitsToFloat(sign | (exp - 7 + 127) << 23 | mant << 20);
    }

    /** The value of the E4M3 byte {@code b} (exact; NaN for 0x7f and 0xff). */
    public static float decode(byte b) {
        return DECODE[b & 0xff];
    }

    /**
     * Rounds {@code f} to the nearest E4M3 value, ties to even. Magnitudes beyond 448 (including infinities)
     * saturate to ±448, as quantizers clamp before casting; NaN becomes 0x7f with the input's sign.
     */
    public static byte encode(float f) {
        int sign = (Float.floatToRawIntBits(f) >>> 24) & 0x80;
        if (Float.isNaN(f)) {
            return (byte) (sign | 0x7f);
        }
        float a = Math.abs(f);
        if (a >= MAX) {
            return (byte) (sign | 0x7e);
        }
        int e = Math.getExponent(a);
        int code;
        if (e < -6) {
            // Subnormal range: multiples of 2^-9. Rounding up to 8 yields 0x08, the smallest normal, as it should.
            code = (int) Math.rint(a * 512.0);
        } else {
            // a = m · 2^(e-3) with m in [8, 16); scaling by a power of two is exact, rint rounds half to even.
            int m = (int) Math.rint(Math.scalb((double) a, 3 - e));
            if (m == 16) {
                m = 8;
                e++;
            }
            code = (e + 7) << 3 | (m - 8);
        }
        // a < 448 rounds to at most 448 (0x7e), never into the NaN code.
        return (byte) (sign | code);
    }
}
