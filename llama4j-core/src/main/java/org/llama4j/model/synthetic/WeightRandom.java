package org.llama4j.model.synthetic;

import java.nio.charset.StandardCharsets;
import org.llama4j.tensor.BlockCodecs;

/**
 * Deterministic standard-normal weights: each tensor row has its own SplitMix64 stream seeded from (seed, tensor
 * name, row), so a value depends only on those three, never on thread count, slab size or generation order, and
 * rows can be generated in parallel. Normals come from Marsaglia's polar method with {@link StrictMath#log}, which
 * gives bit-identical results on every JVM and platform.
 */
final class WeightRandom {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private WeightRandom() {
    }

    /** The seed of one tensor's rows. */
    static long tensorSeed(long seed, String tensorName) {
        long h = 0xcbf29ce484222325L; // FNV-1a over the name's bytes
        for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(seed ^ mix(h));
    }

    /**
     * Fills {@code dst[offset .. offset+count)} with row {@code row}'s values {@code shift + scale·N(0,1)}, each
     * rounded to bfloat16 (as the fixtures are), so F32, F16 and BF16 files of one seed hold the same weights.
     */
    static void fillRow(long tensorSeed, long row, float[] dst, int offset, int count, float scale, float shift) {
        long state = mix(tensorSeed + row * GOLDEN_GAMMA);
        int i = 0;
        while (i < count) {
            double u;
            double v;
            double s;
            do {
                state += GOLDEN_GAMMA;
                u = uniformSigned(mix(state));
                state += GOLDEN_GAMMA;
                v = uniformSigned(mix(state));
                s = u * u + v * v;
            } while (s >= 1 || s == 0);
            double f = Math.sqrt(-2 * StrictMath.log(s) / s);
            dst[offset + i++] = roundToBf16((float) (shift + scale * (u * f)));
            if (i < count) {
                dst[offset + i++] = roundToBf16((float) (shift + scale * (v * f)));
            }
        }
    }

    private static float roundToBf16(float x) {
        return Float.intBitsToFloat(BlockCodecs.floatToBf16(x) << 16);
    }

    /** Uniform in (-1, 1) from the top 53 bits. */
    private static double uniformSigned(long bits) {
        return ((bits >>> 11) * 0x1.0p-53) * 2 - 1;
    }

    /** SplitMix64's finalizer (Stafford variant 13). */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
