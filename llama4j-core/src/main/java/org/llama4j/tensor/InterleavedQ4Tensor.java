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
 * A Q4_0 or Q4_K matrix repacked, at load, for products with 8-bit activations ({@link Q8Activations}), as
 * llama.cpp repacks these types for its CPU kernels. The original tensor is kept for everything else: its exact
 * products, row decoding and byte size are those of the file.
 *
 * <p>Why a second layout: the Vector API has no 8-bit dot product instruction, so a row-by-row integer kernel has
 * to widen, multiply and then sum each row's lanes horizontally, which is slower than the float path. Here the
 * lanes are <em>rows</em>: 16 rows are interleaved so that one vector holds the 4-bit codes of two columns for 16
 * (or, on 256-bit machines, 8) rows, and each activation (a pair of them, broadcast) multiplies all of those rows
 * at once in 16-bit lanes. A 32-column block's 16 products per lane fit 16 bits exactly
 * ({@code 16 · 15 · 127 < 2^15}), so beyond multiply-add each block costs one widening, one conversion and a few
 * float operations per 16 rows.
 *
 * <p>Layout, per group of {@value #ROWS} rows, unit by unit along the row (units in column order, groups in row
 * order): a Q4_0 unit is exactly as large as the original's 16 blocks, a Q4_K unit 2.8% larger (its 6-bit scales
 * and mins unpacked to bytes). Every 32-column block's codes are 8
 * chunks of 32 bytes: chunk {@code k} covers columns {@code 4k .. 4k+3}, and its byte {@code 2r + c} holds row
 * {@code r}'s code of column {@code 4k + c} in the low nibble and of column {@code 4k + 2 + c} in the high one.
 * <ul>
 *   <li>Q4_0, units of 32 columns ({@value #Q4_0_UNIT_BYTES} bytes): the 16 rows' fp16 scales, then the codes.
 *       Row value {@code d·(q - 8)}.</li>
 *   <li>Q4_K, units of 256 columns ({@value #Q4_K_UNIT_BYTES} bytes): the 16 rows' fp16 {@code d}, their fp16
 *       {@code dmin}, the 8 six-bit group scales as bytes ({@code [group][row]}), the 8 group mins likewise, then
 *       the 8 groups' codes. Row value {@code d·sc·q - dmin·m}.</li>
 * </ul>
 *
 * <p>The result equals {@link Q8Activations}' integer products with the original rows up to float summation order
 * (tested), which is llama.cpp's {@code ggml_vec_dot_q4_0_q8_0} / {@code ggml_vec_dot_q4_K_q8_K}.
 */
public final class InterleavedQ4Tensor implements Tensor {
    /** Rows interleaved together; row ranges of the integer kernel are whole groups. */
    public static final int ROWS = 16;
    private static final int BLOCK = 32;
    private static final int BLOCK_CODE_BYTES = 8 * 32;
    static final int Q4_0_UNIT_BYTES = ROWS * 2 + BLOCK_CODE_BYTES;
    static final int Q4_K_UNIT_BYTES = ROWS * 2 * 2 + 8 * ROWS * 2 + 8 * BLOCK_CODE_BYTES;
    private static final int Q4_K_MINS = ROWS * 4 + 8 * ROWS;
    private static final int Q4_K_CODES = ROWS * 4 + 2 * 8 * ROWS;

    private static final VectorSpecies<Float> F = SimdDot.F;
    /** Two 16-bit lanes (a column pair) per row: as many rows per vector as {@link #F} has lanes. */
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_64.withShape(F.vectorShape());
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_64.withShape(F.vectorShape());
    private static final VectorSpecies<Byte> CODE_BYTES = ByteVector.SPECIES_64.withShape(
            VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Short> FP16_PER_F = ShortVector.SPECIES_64.withShape(
            VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Byte> BYTES_PER_F = ByteVector.SPECIES_64.withShape(
            VectorShape.forBitSize(F.vectorBitSize() / 4));
    /** Rows per vector; a group is processed in {@code ROWS / ROWS_PER_VECTOR} passes. */
    private static final int ROWS_PER_VECTOR = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static {
        if (ROWS % ROWS_PER_VECTOR != 0) {
            throw new ExceptionInInitializerError(ROWS_PER_VECTOR + " float lanes do not divide " + ROWS + " rows");
        }
    }

    private final BlockTensor original;
    private final Arena arena;
    private final int unitColumns;
    private final int unitBytes;
    /** Built by {@link #pack} on first use: loading stays zero-copy, and unused tensors (experts) cost nothing. */
    private volatile MemorySegment packed;

    private InterleavedQ4Tensor(BlockTensor original, Arena arena) {
        this.original = original;
        this.arena = arena;
        boolean k = original.type() == GgmlType.Q4_K;
        this.unitColumns = k ? 256 : BLOCK;
        this.unitBytes = k ? Q4_K_UNIT_BYTES : Q4_0_UNIT_BYTES;
    }

    /** Whether {@link #interleave} accepts {@code t}: Q4_0 or Q4_K with a whole number of {@value #ROWS}-row groups. */
    public static boolean supports(Tensor t) {
        return t instanceof BlockTensor bt && (bt.type() == GgmlType.Q4_0 || bt.type() == GgmlType.Q4_K)
                && bt.rowCount() % ROWS == 0;
    }

    /**
     * {@code q4} for the integer kernel. The repacked copy is built in {@code arena} on the first integer product
     * (or {@link #pack}), once; until then nothing is copied, so loading a model stays zero-copy. The original is
     * used for exact products.
     */
    public static InterleavedQ4Tensor interleave(BlockTensor q4, Arena arena) {
        Objects.requireNonNull(arena, "arena");
        if (!supports(q4)) {
            throw new IllegalArgumentException("tensor " + q4.name() + ": interleaving needs Q4_0 or Q4_K with a "
                    + "multiple of " + ROWS + " rows, got " + q4.type() + " with " + q4.rowCount() + " rows");
        }
        return new InterleavedQ4Tensor(q4, arena);
    }

    /** {@code t} for the integer kernel where {@link #supports} it, else {@code t} itself. */
    public static Tensor interleaveIfSupported(Tensor t, Arena arena) {
        return supports(t) ? interleave((BlockTensor) t, arena) : t;
    }

    /**
     * Builds the repacked copy if it is not built yet (in parallel unless the arena is confined), then drops the
     * resident pages of a memory-mapped original: only exact products read it again, and they fault it back in
     * from the page cache, so the copy does not double the process's memory.
     */
    public void pack() {
        if (packed == null) {
            synchronized (this) {
                if (packed == null) {
                    MemorySegment built = build();
                    if (original.data().isMapped()) {
                        original.data().unload();
                    }
                    packed = built;
                }
            }
        }
    }

    /** Whether the repacked copy exists. */
    public boolean isPacked() {
        return packed != null;
    }

    private MemorySegment build() {
        BlockTensor q4 = original;
        long groups = q4.rowCount() / ROWS;
        int rowBytes = Math.toIntExact(q4.rowBytes());
        boolean k = q4.type() == GgmlType.Q4_K;
        int units = Math.toIntExact(q4.rowLength() / unitColumns);
        int groupBytes = Math.multiplyExact(units, unitBytes);
        MemorySegment out = arena.allocate(Math.multiplyExact(groups, (long) groupBytes), 64);
        MemorySegment src = q4.data();
        IntStream all = IntStream.range(0, Math.toIntExact(groups));
        // a confined arena's memory can only be written by this thread
        (out.isAccessibleBy(new Thread(() -> { })) ? all.parallel() : all).forEach(g -> {
            // one bulk copy in and one out per group: per-block segment copies cost more than the shuffle
            byte[] in = new byte[ROWS * rowBytes];
            byte[] group = new byte[groupBytes];
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, (long) g * in.length, in, 0, in.length);
            MemorySegment inSegment = MemorySegment.ofArray(in);
            for (int u = 0; u < units; u++) {
                int o = u * unitBytes;
                for (int r = 0; r < ROWS; r++) {
                    int block = r * rowBytes + u * (k ? 144 : 18);
                    if (k) {
                        packQ4KRow(in, inSegment, block, group, o, r);
                    } else {
                        group[o + 2 * r] = in[block];
                        group[o + 2 * r + 1] = in[block + 1];
                        packCodes(in, block + 2, SPLIT, group, o + 2 * ROWS, r);
                    }
                }
            }
            MemorySegment.copy(group, 0, out, ValueLayout.JAVA_BYTE, (long) g * group.length, group.length);
        });
        return out;
    }

    /** Row {@code r}'s share of a Q4_K unit: d, dmin, the unpacked 6-bit scales and mins, the 8 groups' codes. */
    private static void packQ4KRow(byte[] in, MemorySegment inSegment, int block, byte[] out, int o, int r) {
        out[o + 2 * r] = in[block];
        out[o + 2 * r + 1] = in[block + 1];
        out[o + 2 * ROWS + 2 * r] = in[block + 2];
        out[o + 2 * ROWS + 2 * r + 1] = in[block + 3];
        long scales = SimdDot.q4kScales(inSegment, block);
        long mins = SimdDot.q4kMins(inSegment, block);
        for (int j = 0; j < 8; j++) {
            out[o + 4 * ROWS + j * ROWS + r] = (byte) (scales >>> (8 * j));
            out[o + Q4_K_MINS + j * ROWS + r] = (byte) (mins >>> (8 * j));
            // qs: 32 bytes per pair of groups, group 2p in the low nibbles, 2p+1 in the high ones
            packCodes(in, block + 16 + 32 * (j / 2), j % 2 == 0 ? LOW : HIGH, out, o + Q4_K_CODES + j * BLOCK_CODE_BYTES,
                    r);
        }
    }

    /** Where a block's 32 codes are: Q4_0's 16 bytes, columns 0..15 low and 16..31 high; a Q4_K group's 32 bytes. */
    private static final int SPLIT = 0;
    private static final int LOW = 1;
    private static final int HIGH = 2;

    /** Row {@code r}'s 32 codes of one block ({@code nibbles}: {@link #SPLIT}, {@link #LOW} or {@link #HIGH}). */
    private static void packCodes(byte[] in, int qs, int nibbles, byte[] out, int chunks, int r) {
        for (int k = 0; k < 8; k++) {
            for (int c = 0; c < 2; c++) {
                int first = code(in, qs, nibbles, 4 * k + c);
                int second = code(in, qs, nibbles, 4 * k + 2 + c);
                out[chunks + 32 * k + 2 * r + c] = (byte) (first | second << 4);
            }
        }
    }

    private static int code(byte[] in, int qs, int nibbles, int column) {
        return switch (nibbles) {
            case LOW -> in[qs + column] & 0x0F;
            case HIGH -> (in[qs + column] >> 4) & 0x0F;
            default -> column < 16 ? in[qs + column] & 0x0F : (in[qs + column - 16] >> 4) & 0x0F;
        };
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
     * pair of columns one chunk half multiplies), the block's sum of values (for the codes' offsets) and its
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
        int spansPerBlock = BLOCK / Q8Activations.SUM_SPAN;
        for (int b = 0; b < x.batch() * blocks; b++) {
            int base = b * BLOCK;
            for (int k = 0; k < 8; k++) {
                int j = base + 4 * k;
                pairs[b * 16 + 2 * k] = (q[j] & 0xFFFF) | q[j + 1] << 16;
                pairs[b * 16 + 2 * k + 1] = (q[j + 2] & 0xFFFF) | q[j + 3] << 16;
            }
            // the quantizer already summed the values per 16
            for (int span = 0; span < spansPerBlock; span++) {
                sums[b] += x.sums[b * spansPerBlock + span];
            }
        }
        return new PairedActivations(length, x.batch(), pairs, sums, x.scales);
    }

    /**
     * {@code out[outOffset + t·outStride + r] = row (firstRow + r) · x_t} for {@code r < rows} and every vector
     * {@code t} of {@code x}; {@code firstRow} and {@code rows} are multiples of {@value #ROWS}.
     */
    public void dotRows(long firstRow, int rows, PairedActivations x, float[] out, int outOffset, int outStride) {
        if (x.length() != rowLength()) {
            throw new IllegalArgumentException("tensor " + name() + " has rows of " + rowLength()
                    + " values, activations have " + x.length());
        }
        if (firstRow % ROWS != 0 || rows % ROWS != 0 || firstRow < 0 || firstRow + rows > rowCount()) {
            throw new IllegalArgumentException("tensor " + name() + ": rows " + firstRow + "+" + rows
                    + " are not whole groups of " + ROWS + " within " + rowCount());
        }
        pack();
        MemorySegment data = packed;
        int units = Math.toIntExact(rowLength() / unitColumns);
        long groupBytes = (long) units * unitBytes;
        int blocks = Math.toIntExact(rowLength() / BLOCK);
        boolean k = original.type() == GgmlType.Q4_K;
        for (int t = 0; t < x.batch(); t++) {
            for (int part = 0; part < ROWS / ROWS_PER_VECTOR; part++) {
                long start = firstRow / ROWS * groupBytes;
                int o = outOffset + t * outStride + part * ROWS_PER_VECTOR;
                if (k) {
                    q4kGroups(data, start, rows / ROWS, units, part, x.pairs(), x.blockSums(), x.scales(),
                            t * blocks, out, o);
                } else {
                    q4_0Groups(data, start, rows / ROWS, units, part, x.pairs(), x.blockSums(), x.scales(),
                            t * blocks, out, o);
                }
            }
        }
    }

    /*
     * The kernels: one static method per format with the groups' loop inside and the data and arrays as locals
     * (split into a per-group method, or reading fields, C2 compiled them 30-50% slower). Each handles one vector
     * of rows ({@code part}) of consecutive groups against one activation vector (its blocks from xBlock), into
     * out[outIndex + g·16 ..].
     */

    private static void q4_0Groups(MemorySegment data, long start, int groups, int blocks, int part, int[] pairs,
            int[] sums, float[] scales, int xBlock, float[] out, int outIndex) {
        long codes = 2 * ROWS + part * 2L * ROWS_PER_VECTOR;
        long fp16 = part * 2L * ROWS_PER_VECTOR;
        long base = start;
        for (int g = 0; g < groups; g++) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++, base += Q4_0_UNIT_BYTES) {
                int xb = xBlock + b;
                IntVector dots = blockDots(data, base + codes, pairs, xb * 16).sub(8 * sums[xb]);
                FloatVector d = fp16ToFloat(data, base + fp16);
                acc = ((FloatVector) dots.convert(VectorOperators.I2F, 0)).fma(d.mul(scales[xb]), acc);
            }
            acc.intoArray(out, outIndex + g * ROWS);
        }
    }

    private static void q4kGroups(MemorySegment data, long start, int groups, int units, int part, int[] pairs,
            int[] sums, float[] scales, int xBlock, float[] out, int outIndex) {
        long codes = Q4_K_CODES + part * 2L * ROWS_PER_VECTOR;
        long fp16 = part * 2L * ROWS_PER_VECTOR;
        long groupScales = 4 * ROWS + part * (long) ROWS_PER_VECTOR;
        long groupMins = Q4_K_MINS + part * (long) ROWS_PER_VECTOR;
        long base = start;
        for (int g = 0; g < groups; g++) {
            FloatVector acc = FloatVector.zero(F);
            for (int u = 0; u < units; u++, base += Q4_K_UNIT_BYTES) {
                FloatVector scaled = FloatVector.zero(F);
                FloatVector offsets = FloatVector.zero(F);
                for (int j = 0; j < 8; j++) {
                    int xb = xBlock + 8 * u + j;
                    IntVector dots = blockDots(data, base + codes + j * BLOCK_CODE_BYTES, pairs, xb * 16);
                    FloatVector sc = bytesToFloats(data, base + groupScales + j * ROWS);
                    FloatVector m = bytesToFloats(data, base + groupMins + j * ROWS);
                    scaled = ((FloatVector) dots.convert(VectorOperators.I2F, 0)).fma(sc.mul(scales[xb]), scaled);
                    offsets = m.fma(FloatVector.broadcast(F, scales[xb] * sums[xb]), offsets);
                }
                acc = scaled.fma(fp16ToFloat(data, base + fp16), acc);
                acc = offsets.fma(fp16ToFloat(data, base + 2 * ROWS + fp16).neg(), acc);
            }
            acc.intoArray(out, outIndex + g * ROWS);
        }
    }

    /**
     * {@code Σ code·x8} per row of one 32-column block: lane {@code 2r + c} of the 16-bit sums holds row
     * {@code r}'s products with the block's columns {@code ≡ c (mod 2)}, and the two are added in int lanes.
     */
    private static IntVector blockDots(MemorySegment data, long codes, int[] pairs, int p) {
        ShortVector s = ShortVector.zero(S);
        for (int k = 0; k < 8; k++) {
            ShortVector c = (ShortVector) ByteVector.fromMemorySegment(CODE_BYTES, data, codes + 32 * k, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            s = s.add(c.and((short) 0x0F).mul(IntVector.broadcast(I, pairs[p + 2 * k]).reinterpretAsShorts()));
            s = s.add(c.lanewise(VectorOperators.LSHR, 4)
                    .mul(IntVector.broadcast(I, pairs[p + 2 * k + 1]).reinterpretAsShorts()));
        }
        IntVector both = s.reinterpretAsInts();
        return both.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(both.lanewise(VectorOperators.ASHR, 16));
    }

    private static FloatVector bytesToFloats(MemorySegment data, long offset) {
        return (FloatVector) ByteVector.fromMemorySegment(BYTES_PER_F, data, offset, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0).convert(VectorOperators.I2F, 0);
    }

    /**
     * {@link Float#float16ToFloat} of {@link #ROWS_PER_VECTOR} consecutive fp16 values, exactly (subnormals,
     * infinities and NaN included): the bits shifted into a float's place are the value times {@code 2^-112}.
     */
    static FloatVector fp16ToFloat(MemorySegment src, long offset) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(FP16_PER_F, src, offset, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
        IntVector shifted = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = shifted.compare(VectorOperators.GE, 0x7C00 << 13);
        return finite.blend(shifted.or(0x7F800000), special)
                .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    @Override
    public String toString() {
        return "InterleavedQ4Tensor[" + original + "]";
    }
}
