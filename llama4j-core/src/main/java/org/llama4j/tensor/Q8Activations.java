package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A batch of activation vectors quantized to 8 bits for integer dot products with quantized weights, as llama.cpp
 * does ({@code quantize_row_q8_0} / {@code q8_K}, then {@code ggml_vec_dot_*_q8_*}): each block of 32 values
 * becomes {@code d * q} with 8-bit {@code q} in -127..127 and a float scale {@code d = absmax / 127}, plus the
 * sums of {@code q} over each 16 values for formats with a per-group offset.
 *
 * <p>One activation format serves every weight type: all groups of the quantized formats (16 or 32 values) lie
 * inside one 32-value block. K-quants get a scale per 32 activations where llama.cpp's Q8_K has one per 256,
 * which rounds activations no worse. The weight-side arithmetic is in integers per group, and the group factors
 * are applied once per group in float:
 * {@code Σ_g (scale_g·d) · Σ code·q − (min_g·d) · Σ q}.
 *
 * <p>Weights without integer codes (F32, F16, BF16) fall back to the exact float dot product with the original
 * activations, as llama.cpp does not quantize activations for float weights either.
 */
public final class Q8Activations {
    /** Values per activation block (one float scale each). */
    public static final int BLOCK = 32;
    static final int SUM_SPAN = 16;

    private final float[] source;
    private final int sourceOffset;
    private final int length;
    private final int batch;
    /** The 8-bit values, stored widened to 16 bits: the integer kernel multiplies in 16-bit lanes. */
    final short[] q;
    final float[] scales;
    final int[] sums;

    private Q8Activations(float[] source, int sourceOffset, int length, int batch) {
        this.source = source;
        this.sourceOffset = sourceOffset;
        this.length = length;
        this.batch = batch;
        this.q = new short[length * batch];
        this.scales = new float[length * batch / BLOCK];
        this.sums = new int[length * batch / SUM_SPAN];
    }

    /**
     * Quantizes {@code batch} consecutive vectors of {@code length} values (a multiple of {@link #BLOCK}) starting
     * at {@code x[offset]}. {@code x} is kept (not copied) for the float-weight fallback: do not modify it while
     * this object is in use.
     */
    public static Q8Activations quantize(float[] x, int offset, int length, int batch) {
        Objects.requireNonNull(x, "x");
        if (length <= 0 || length % BLOCK != 0) {
            throw new IllegalArgumentException("activation length " + length + " is not a positive multiple of " + BLOCK);
        }
        Objects.checkFromIndexSize(offset, Math.multiplyExact(length, batch), x.length);
        Q8Activations a = new Q8Activations(x, offset, length, batch);
        for (int block = 0; block < a.scales.length; block++) {
            int base = block * BLOCK;
            float absMax = 0f;
            for (int i = 0; i < BLOCK; i++) {
                absMax = Math.max(absMax, Math.abs(x[offset + base + i]));
            }
            float d = absMax / 127f;
            float inverse = d == 0f ? 0f : 1f / d;
            a.scales[block] = d;
            for (int i = 0; i < BLOCK; i++) {
                int v = Math.clamp(Math.round(x[offset + base + i] * inverse), -127, 127);
                a.q[base + i] = (short) v;
                a.sums[(base + i) / SUM_SPAN] += v;
            }
        }
        return a;
    }

    public int length() {
        return length;
    }

    public int batch() {
        return batch;
    }

    /** The dequantized value {@code d * q} of element {@code i} of vector {@code b} (for error analysis). */
    public float value(int b, int i) {
        int k = b * length + i;
        return scales[k / BLOCK] * q[k];
    }

    /** Per-thread working memory for {@link #dotRow}: one unpacked weight row. */
    public static final class Scratch {
        final byte[] codes;
        final float[] groupScales;
        final float[] groupMins;
        final float[] factors;

        public Scratch(int rowLength) {
            codes = new byte[rowLength];
            groupScales = new float[rowLength / SUM_SPAN];
            groupMins = new float[rowLength / SUM_SPAN];
            factors = new float[rowLength / SUM_SPAN];
        }
    }

    /**
     * {@code out[outOffset + b * outStride] = row · x_b} for every vector {@code b} of the batch. The weight row is
     * unpacked once and reused by the whole batch.
     */
    public void dotRow(BlockTensor w, long row, Scratch scratch, float[] out, int outOffset, int outStride) {
        if (w.rowLength() != length) {
            throw new IllegalArgumentException("tensor " + w.name() + " has rows of " + w.rowLength()
                    + " values, activations have " + length);
        }
        if (!(w.codec() instanceof GroupedCodes codec)) {
            for (int b = 0; b < batch; b++) {
                out[outOffset + b * outStride] = w.dotRow(row, source, sourceOffset + b * length);
            }
            return;
        }
        int groups = unpackRow(codec, w, row, scratch);
        int gs = codec.groupSize();
        boolean hasMins = false;
        for (int g = 0; g < groups && !hasMins; g++) {
            hasMins = scratch.groupMins[g] != 0f;
        }
        for (int b = 0; b < batch; b++) {
            int xBase = b * length;
            for (int g = 0; g < groups; g++) {
                scratch.factors[g] = scratch.groupScales[g] * scales[(xBase + g * gs) / BLOCK];
            }
            float sum = SimdDot.dotGroups(scratch.codes, q, xBase, scratch.factors, groups, gs);
            if (hasMins) {
                sum -= minTerm(scratch, groups, gs, xBase);
            }
            out[outOffset + b * outStride] = sum;
        }
    }

    /** {@code Σ_g min_g · d · Σ q} over the groups: the offset part of affine formats. */
    private float minTerm(Scratch scratch, int groups, int gs, int xBase) {
        float sum = 0f;
        for (int g = 0; g < groups; g++) {
            int xStart = xBase + g * gs;
            int xSum = 0;
            for (int s = xStart / SUM_SPAN; s < (xStart + gs) / SUM_SPAN; s++) {
                xSum += sums[s];
            }
            sum += scratch.groupMins[g] * scales[xStart / BLOCK] * xSum;
        }
        return sum;
    }

    private static int unpackRow(GroupedCodes codec, BlockTensor w, long row, Scratch scratch) {
        GgmlType type = codec.type();
        int blocks = (int) (w.rowLength() / type.blockSize());
        int groupsPerBlock = type.blockSize() / codec.groupSize();
        MemorySegment data = w.data();
        long offset = row * w.rowBytes();
        for (int k = 0; k < blocks; k++) {
            codec.unpack(data, offset + (long) k * type.blockBytes(), scratch.codes, k * type.blockSize(),
                    scratch.groupScales, scratch.groupMins, k * groupsPerBlock);
        }
        return blocks * groupsPerBlock;
    }

    /** One group's contribution {@code scale·d·Σcode·q − min·d·Σq}, from its exact integer sums. */
    private float groupTerm(float scale, float min, int gs, int xStart, int dots) {
        float d = scales[xStart / BLOCK];
        int xSum = 0;
        for (int s = xStart / SUM_SPAN; s < (xStart + gs) / SUM_SPAN; s++) {
            xSum += sums[s];
        }
        return scale * d * dots - min * d * xSum;
    }

    /**
     * Scalar reference of {@link #dotRow} for quantized weights: codes recovered from the scalar decoder, integer
     * dot products value by value, then the group terms summed in group order. {@code magnitude[0]} receives
     * {@code Σ |group term|}, the scale of the float rounding {@link #dotRow} may differ by (it sums in lanes).
     */
    float referenceDotRow(BlockTensor w, long row, int b, double[] magnitude) {
        GroupedCodes codec = (GroupedCodes) w.codec();
        GgmlType type = codec.type();
        int bs = type.blockSize();
        int gs = codec.groupSize();
        Scratch scratch = new Scratch(length);
        float[] decoded = new float[bs];
        float[] blockScales = new float[bs / gs];
        float[] blockMins = new float[bs / gs];
        byte[] blockCodes = new byte[bs];
        for (int k = 0; k < length / bs; k++) {
            long offset = row * w.rowBytes() + (long) k * type.blockBytes();
            codec.unpack(w.data(), offset, blockCodes, 0, blockScales, blockMins, 0);
            codec.decodeBlock(w.data(), offset, decoded, 0);
            for (int g = 0; g < bs / gs; g++) {
                scratch.groupScales[k * bs / gs + g] = blockScales[g];
                scratch.groupMins[k * bs / gs + g] = blockMins[g];
                for (int i = g * gs; i < (g + 1) * gs; i++) {
                    // the code is recovered from the decoder's output, so unpacking is checked as well
                    int code = Math.round((decoded[i] + blockMins[g]) / blockScales[g]);
                    scratch.codes[k * bs + i] = blockScales[g] == 0f ? blockCodes[i] : (byte) code;
                }
            }
        }
        float sum = 0f;
        magnitude[0] = 0;
        int xBase = b * length;
        for (int g = 0; g < length / gs; g++) {
            int dots = 0;
            for (int i = g * gs; i < (g + 1) * gs; i++) {
                dots += scratch.codes[i] * q[xBase + i];
            }
            float term = groupTerm(scratch.groupScales[g], scratch.groupMins[g], gs, xBase + g * gs, dots);
            sum += term;
            magnitude[0] += Math.abs(scratch.groupScales[g] * scales[(xBase + g * gs) / BLOCK] * (double) dots)
                    + Math.abs(term);
        }
        return sum;
    }
}
