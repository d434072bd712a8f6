package org.llama4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.stream.IntStream;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A Q4_0 matrix repacked, at load, for products with 8-bit activations ({@link Q8Activations}), as llama.cpp
 * repacks Q4_0 for its CPU kernels. The original tensor is kept for everything else: its exact products, row
 * decoding and byte size are those of the file.
 *
 * <p>Why a second layout: the Vector API has no 8-bit dot product instruction, so a row-by-row integer kernel has
 * to widen, multiply and then sum each row's lanes horizontally, which is slower than the float path. Here the
 * lanes are <em>rows</em>: 16 rows are interleaved so that one vector holds the codes of two columns for 16 (or,
 * on 256-bit machines, 8) rows, and each activation (a pair of them, broadcast) multiplies all of those rows at
 * once in 16-bit lanes. A block's 16 products per lane fit 16 bits exactly ({@code 16 · 15 · 127 < 2^15}), so the
 * only per-block work beyond multiply-add is one widening, one conversion and one float multiply-add per 16 rows.
 *
 * <p>Layout, per group of {@value #ROWS} rows and 32-column block ({@value #GROUP_BLOCK_BYTES} bytes, exactly the
 * original's 16 blocks of 18): the 16 rows' fp16 scales, then 8 chunks of 32 bytes; chunk {@code k} covers
 * columns {@code 4k .. 4k+3}, and its byte {@code 2r + c} holds row {@code r}'s code of column {@code 4k + c} in
 * the low nibble and of column {@code 4k + 2 + c} in the high one. Groups follow each other in row order, blocks
 * in column order within a group.
 *
 * <p>The result equals {@link Q8Activations}' integer products with the original rows ({@code Σ_b d_w·d_x·Σ
 * (q-8)·x8}) up to float summation order (tested), which is llama.cpp's {@code ggml_vec_dot_q4_0_q8_0}.
 */
public final class InterleavedQ4_0Tensor implements Tensor {
    /** Rows interleaved together; row ranges of the integer kernel are whole groups. */
    public static final int ROWS = 16;
    static final int GROUP_BLOCK_BYTES = ROWS * 2 + 8 * 32;
    private static final int BLOCK = 32;

    private static final VectorSpecies<Float> F = SimdDot.F;
    /** Two 16-bit lanes (a column pair) per row: as many rows per vector as {@link #F} has lanes. */
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(F.vectorShape());
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_64.withShape(F.vectorShape());
    private static final VectorSpecies<Byte> CODE_BYTES = ByteVector.SPECIES_64.withShape(
            VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Short> SCALE_SHORTS = ShortVector.SPECIES_64.withShape(
            VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** Rows per vector; a group is processed in {@code ROWS / ROWS_PER_VECTOR} passes. */
    private static final int ROWS_PER_VECTOR = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static {
        if (ROWS % ROWS_PER_VECTOR != 0) {
            throw new ExceptionInInitializerError(ROWS_PER_VECTOR + " float lanes do not divide " + ROWS + " rows");
        }
    }

    private final BlockTensor original;
    private final MemorySegment packed;

    private InterleavedQ4_0Tensor(BlockTensor original, MemorySegment packed) {
        this.original = original;
        this.packed = packed;
    }

    /** Whether {@link #interleave} accepts {@code t}: Q4_0 with a whole number of {@value #ROWS}-row groups. */
    public static boolean supports(Tensor t) {
        return t instanceof BlockTensor bt && bt.type() == GgmlType.Q4_0 && bt.rowCount() % ROWS == 0;
    }

    /**
     * Repacks {@code q4} into {@code arena} (in parallel unless the arena is confined). The original stays readable and is used for exact
     * products; its pages may be released afterwards (see {@link #releaseOriginalPages}).
     */
    public static InterleavedQ4_0Tensor interleave(BlockTensor q4, Arena arena) {
        Objects.requireNonNull(arena, "arena");
        if (!supports(q4)) {
            throw new IllegalArgumentException("tensor " + q4.name() + ": interleaving needs Q4_0 with a multiple of "
                    + ROWS + " rows, got " + q4.type() + " with " + q4.rowCount() + " rows");
        }
        int blocks = Math.toIntExact(q4.rowLength() / BLOCK);
        long groups = q4.rowCount() / ROWS;
        MemorySegment packed = arena.allocate(Math.multiplyExact(groups * blocks, (long) GROUP_BLOCK_BYTES), 64);
        MemorySegment src = q4.data();
        int rowBytes = Math.toIntExact(q4.rowBytes());
        IntStream all = IntStream.range(0, Math.toIntExact(groups));
        // a confined arena's memory can only be written by this thread
        (packed.isAccessibleBy(new Thread(() -> { })) ? all.parallel() : all).forEach(g -> {
            // one bulk copy per row in and one per group out: per-block segment copies cost more than the shuffle
            byte[] rowsIn = new byte[ROWS * rowBytes];
            byte[] out = new byte[blocks * GROUP_BLOCK_BYTES];
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, (long) g * ROWS * rowBytes, rowsIn, 0, rowsIn.length);
            for (int b = 0; b < blocks; b++) {
                int o = b * GROUP_BLOCK_BYTES;
                for (int r = 0; r < ROWS; r++) {
                    int block = r * rowBytes + b * 18;
                    out[o + 2 * r] = rowsIn[block];
                    out[o + 2 * r + 1] = rowsIn[block + 1];
                    int qs = block + 2;
                    int chunk = o + 2 * ROWS + 2 * r;
                    // chunks 0-3 take columns 0..15 (low nibbles), chunks 4-7 columns 16..31 (high nibbles)
                    for (int k = 0; k < 4; k++) {
                        for (int c = 0; c < 2; c++) {
                            int first = rowsIn[qs + 4 * k + c];
                            int second = rowsIn[qs + 4 * k + 2 + c];
                            out[chunk + 32 * k + c] = (byte) ((first & 0x0F) | (second & 0x0F) << 4);
                            out[chunk + 32 * (k + 4) + c] = (byte) ((first >> 4) & 0x0F | second & 0xF0);
                        }
                    }
                }
            }
            MemorySegment.copy(out, 0, packed, ValueLayout.JAVA_BYTE, (long) g * out.length, out.length);
        });
        return new InterleavedQ4_0Tensor(q4, packed);
    }

    /**
     * Drops the resident pages of a memory-mapped original (they are only read again by exact products, which
     * fault them back in from the page cache), so the repacked copy does not double the process's memory.
     */
    public void releaseOriginalPages() {
        if (original.data().isMapped()) {
            original.data().unload();
        }
    }

    public BlockTensor original() {
        return original;
    }

    @Override
    public String name() {
        return original.name();
    }

    @Override
    public String typeName() {
        return original.typeName();
    }

    @Override
    public long[] shape() {
        return original.shape();
    }

    @Override
    public long byteSize() {
        return original.byteSize();
    }

    @Override
    public void dequantizeRow(long row, float[] dst, int dstOffset) {
        original.dequantizeRow(row, dst, dstOffset);
    }

    @Override
    public float dotRow(long row, float[] x, int xOffset) {
        return original.dotRow(row, x, xOffset);
    }

    /**
     * The activations in the kernel's order: per vector and block, 16 ints each holding two 8-bit values (the
     * pair of columns one chunk half multiplies), the block's sum of values (for the codes' offset of 8) and its
     * scale.
     */
    public record PairedActivations(int length, int batch, int[] pairs, int[] blockSums, float[] scales) {
    }

    public static PairedActivations pair(Q8Activations x) {
        int length = x.length();
        int blocks = length / BLOCK;
        int[] pairs = new int[x.batch() * length / 2];
        int[] sums = new int[x.batch() * blocks];
        short[] q = x.q;
        for (int b = 0; b < x.batch() * blocks; b++) {
            int base = b * BLOCK;
            int sum = 0;
            for (int k = 0; k < 8; k++) {
                int j = base + 4 * k;
                pairs[b * 16 + 2 * k] = (q[j] & 0xFFFF) | q[j + 1] << 16;
                pairs[b * 16 + 2 * k + 1] = (q[j + 2] & 0xFFFF) | q[j + 3] << 16;
                sum += q[j] + q[j + 1] + q[j + 2] + q[j + 3];
            }
            sums[b] = sum;
        }
        return new PairedActivations(length, x.batch(), pairs, sums, x.scales);
    }

    /**
     * {@code out[outOffset + t·outStride + r] = row (firstRow + r) · x_t} for {@code r < rows} and every vector
     * {@code t} of {@code x}; {@code firstRow} and {@code rows} are multiples of {@value #ROWS}.
     */
    public void dotRows(long firstRow, int rows, PairedActivations x, float[] out, int outOffset, int outStride) {
        int blocks = Math.toIntExact(rowLength() / BLOCK);
        if (x.length() != rowLength()) {
            throw new IllegalArgumentException("tensor " + name() + " has rows of " + rowLength()
                    + " values, activations have " + x.length());
        }
        if (firstRow % ROWS != 0 || rows % ROWS != 0 || firstRow < 0 || firstRow + rows > rowCount()) {
            throw new IllegalArgumentException("tensor " + name() + ": rows " + firstRow + "+" + rows
                    + " are not whole groups of " + ROWS + " within " + rowCount());
        }
        MemorySegment data = packed;
        int[] pairs = x.pairs();
        int[] sums = x.blockSums();
        float[] scales = x.scales();
        long firstGroup = firstRow / ROWS;
        for (int t = 0; t < x.batch(); t++) {
            for (int part = 0; part < ROWS / ROWS_PER_VECTOR; part++) {
                groupsPart(data, firstGroup, rows / ROWS, blocks, part, pairs, sums, scales, t * blocks, out,
                        outOffset + t * outStride + part * ROWS_PER_VECTOR);
            }
        }
    }

    /**
     * One vector of rows ({@code part}) of each of {@code groups} groups against one activation vector (its blocks
     * from {@code xBlock}), into {@code out[outIndex + g·16 ..]}. Lane {@code 2r + c} of {@code s} sums row
     * {@code r}'s products with the block's columns {@code ≡ c (mod 2)}. One static method with the groups' loop
     * inside and the data and arrays as locals: split into a per-group method, or reading fields, C2 compiled it
     * 30-50% slower.
     */
    private static void groupsPart(MemorySegment data, long firstGroup, int groups, int blocks, int part,
            int[] pairs, int[] sums, float[] scales, int xBlock, float[] out, int outIndex) {
        long codes = 2 * ROWS + part * 2L * ROWS_PER_VECTOR;
        long scaleOffset = part * 2L * ROWS_PER_VECTOR;
        for (int g = 0; g < groups; g++) {
            FloatVector acc = FloatVector.zero(F);
            long base = (firstGroup + g) * blocks * GROUP_BLOCK_BYTES;
            for (int b = 0; b < blocks; b++, base += GROUP_BLOCK_BYTES) {
                ShortVector s = ShortVector.zero(S);
                int p = (xBlock + b) * 16;
                for (int k = 0; k < 8; k++) {
                    ShortVector c = (ShortVector) ByteVector.fromMemorySegment(CODE_BYTES, data,
                            base + codes + 32 * k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    s = s.add(c.and((short) 0x0F).mul(IntVector.broadcast(I, pairs[p + 2 * k]).reinterpretAsShorts()));
                    s = s.add(c.lanewise(VectorOperators.LSHR, 4)
                            .mul(IntVector.broadcast(I, pairs[p + 2 * k + 1]).reinterpretAsShorts()));
                }
                IntVector both = s.reinterpretAsInts();
                IntVector sum = both.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(both.lanewise(VectorOperators.ASHR, 16))
                        .sub(8 * sums[xBlock + b]);
                FloatVector d = fp16ToFloat(data, base + scaleOffset);
                acc = ((FloatVector) sum.convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xBlock + b]), acc);
            }
            acc.intoArray(out, outIndex + g * ROWS);
        }
    }

    /**
     * {@link Float#float16ToFloat} of {@link #ROWS_PER_VECTOR} consecutive fp16 values, exactly (subnormals,
     * infinities and NaN included): the bits shifted into a float's place are the value times {@code 2^-112}.
     */
    static FloatVector fp16ToFloat(MemorySegment src, long offset) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(SCALE_SHORTS, src, offset, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
        IntVector shifted = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = shifted.compare(VectorOperators.GE, 0x7C00 << 13);
        return finite.blend(shifted.or(0x7F800000), special)
                .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    @Override
    public String toString() {
        return "InterleavedQ4_0Tensor[" + original + "]";
    }
}
