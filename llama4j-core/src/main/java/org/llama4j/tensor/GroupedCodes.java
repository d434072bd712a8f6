package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The integer view every quantized format shares: a block is {@code blockSize} signed 8-bit codes in groups of
 * {@link #groupSize()} values, and value {@code i} of group {@code g} is {@code scales[g] * codes[i] - mins[g]}
 * (for formats without an offset {@code mins[g]} is 0). The codes are the format's integer levels (Q4_0: -8..7,
 * Q6_K: -32..31, IQ4: the code book entries, Q4_K: 0..15, ...) and the group factors are computed with the same
 * float operations as the format's decoder, so that reconstructing from this view reproduces
 * {@link BlockCodec#decodeBlock} bit for bit.
 *
 * <p>Both fast paths are built on it: the exact path turns codes into float lanes and applies the factors in
 * registers; the 8-bit activation path multiplies codes with quantized activations in integer lanes and applies
 * the factors once per group.
 */
interface GroupedCodes extends BlockCodec {

    /** Values per group: 16 or 32 (always a divisor of the 32-value activation blocks of {@link Q8Activations}). */
    int groupSize();

    /**
     * Unpacks the block at byte {@code offset} of {@code src}: {@code blockSize} codes into
     * {@code codes[codeOffset..]} and one scale and min per group into {@code scales/mins[groupOffset..]}.
     */
    void unpack(MemorySegment src, long offset, byte[] codes, int codeOffset, float[] scales, float[] mins,
            int groupOffset);
}
