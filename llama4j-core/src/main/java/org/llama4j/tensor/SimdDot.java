package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels behind the codecs' {@link BlockCodec#dot} and {@link BlockCodec#decode} overrides and
 * behind {@link Q8Activations}. Every function has a scalar reference it is tested against: the
 * {@link BlockCodec#referenceDot} of the format, or the integer reference of {@link Q8Activations}.
 */
final class SimdDot {
    /**
     * Float lanes of the exact kernels: the preferred width, but at least 256 bits, because their byte-to-float
     * widening loads {@code F.length()} bytes and Java has no vectors of fewer than 64 bits (on 128-bit machines
     * the 256-bit species is correct, if slower).
     */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_256;
    /** As many bytes / shorts / ints as {@link #F} has float lanes, for widening conversions into float lanes. */
    private static final VectorSpecies<Byte> BYTES_PER_F = ByteVector.SPECIES_64.withShape(shape(F, 4));
    private static final VectorSpecies<Short> SHORTS_PER_F = ShortVector.SPECIES_64.withShape(shape(F, 2));
    private static final VectorSpecies<Integer> INTS_PER_F = IntVector.SPECIES_64.withShape(F.vectorShape());
    /**
     * Integer dot products widen bytes to 16-bit lanes: at most 256 bits of shorts (16 lanes), so that one step
     * covers exactly one 16-value group even where wider vectors exist.
     */
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(Math.min(256, ShortVector.SPECIES_PREFERRED.vectorBitSize())));
    private static final VectorSpecies<Byte> BYTES_PER_S = ByteVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> INTS_PER_S = IntVector.SPECIES_PREFERRED.withShape(S.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static {
        if (16 % F.length() != 0 || 16 % S.length() != 0) {
            throw new ExceptionInInitializerError("vector lanes " + F.length() + "/" + S.length()
                    + " do not divide the 16-value groups of the quantized formats");
        }
    }

    private SimdDot() {
    }

    private static VectorShape shape(VectorSpecies<Float> f, int divisor) {
        return VectorShape.forBitSize(f.vectorBitSize() / divisor);
    }

    // ---- exact float path ----------------------------------------------------------------------------------

    /**
     * {@code codes[j .. j + F.length())} as float lanes. Widening to int lanes first and converting those
     * ({@code vpmovsxbd} + {@code vcvtdq2ps}) measured faster than the direct byte-to-float conversion.
     */
    private static FloatVector codesToFloats(byte[] codes, int j) {
        return (FloatVector) ByteVector.fromArray(BYTES_PER_F, codes, j)
                .convertShape(VectorOperators.B2I, INTS_PER_F, 0)
                .convert(VectorOperators.I2F, 0);
    }

    static float dotGrouped(GroupedCodes codec, MemorySegment src, long offset, float[] x, int xOffset, int count) {
        GgmlType type = codec.type();
        int bs = type.blockSize();
        int bb = type.blockBytes();
        int gs = codec.groupSize();
        int groups = bs / gs;
        byte[] codes = new byte[bs];
        float[] scales = new float[groups];
        float[] mins = new float[groups];
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < count; i += bs, offset += bb) {
            codec.unpack(src, offset, codes, 0, scales, mins, 0);
            for (int g = 0; g < groups; g++) {
                FloatVector scale = FloatVector.broadcast(F, scales[g]);
                FloatVector min = FloatVector.broadcast(F, mins[g]);
                for (int j = g * gs; j < (g + 1) * gs; j += F.length()) {
                    FloatVector y = codesToFloats(codes, j).mul(scale).sub(min);
                    acc = y.fma(FloatVector.fromArray(F, x, xOffset + i + j), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@code lanes} of 16 byte codes ({@code part} selects which {@code F.length()} of them) as float lanes, for the
     * fused kernels below that unpack straight into registers.
     */
    private static FloatVector codesToFloats(ByteVector codes16, int part) {
        return (FloatVector) codes16.convertShape(VectorOperators.B2I, INTS_PER_F, part)
                .convert(VectorOperators.I2F, 0);
    }

    /** Bytes shifted right by 4 within 16-bit lanes (x86 has no byte shifts); the caller masks the low nibble. */
    private static ByteVector highNibbles(ByteVector v) {
        return v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
    }

    /**
     * {@code Σ (scale * code) * x} over 16 codes, into {@code acc}, in the lane order of {@link #dotGrouped}: the
     * same float operations (its {@code - min} is {@code - 0}, an identity) so the result is bit-identical.
     */
    private static FloatVector fma16(ByteVector codes16, FloatVector scale, FloatVector min, float[] x, int xi,
            FloatVector acc) {
        for (int part = 0; part < 16 / F.length(); part++) {
            FloatVector y = codesToFloats(codes16, part).mul(scale);
            if (min != null) {
                y = y.sub(min);
            }
            acc = y.fma(FloatVector.fromArray(F, x, xi + part * F.length()), acc);
        }
        return acc;
    }

    /**
     * {@link #dotGrouped} for 32-value blocks of an fp16 scale and 16 bytes of nibbles (Q4_0: code = nibble +
     * {@code delta}), fused: the nibbles are unpacked in registers instead of through a code array, which
     * decode's batch-1 matvecs spend most of their time on. Bit-identical to {@link #dotGrouped}.
     */
    static float dotScaledNibbles(MemorySegment src, long offset, byte delta, float[] x, int xOffset, int count) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < count; i += 32, offset += 18) {
            FloatVector scale = FloatVector.broadcast(F, QuantBits.fp16(src, offset));
            ByteVector v = ByteVector.fromMemorySegment(CodeUnpack.B16, src, offset + 2, LE);
            acc = fma16(v.and((byte) 0x0F).add(delta), scale, null, x, xOffset + i, acc);
            acc = fma16(highNibbles(v).add(delta), scale, null, x, xOffset + i + 16, acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #dotGrouped} for Q4_K, fused as {@link #dotScaledNibbles}: each 32 bytes of {@code qs} hold group
     * {@code 2p} in their low nibbles and group {@code 2p+1} in their high nibbles. Bit-identical to
     * {@link #dotGrouped}.
     */
    static float dotQ4K(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        float[] scales = new float[8];
        float[] mins = new float[8];
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < count; i += 256, offset += 144) {
            Q4KCodec.unpackScaleMin(src, offset, scales, mins, 0);
            for (int pair = 0; pair < 4; pair++) {
                long qs = offset + 16 + 32L * pair;
                ByteVector v0 = ByteVector.fromMemorySegment(CodeUnpack.B16, src, qs, LE);
                ByteVector v1 = ByteVector.fromMemorySegment(CodeUnpack.B16, src, qs + 16, LE);
                int xi = xOffset + i + 64 * pair;
                FloatVector scale = FloatVector.broadcast(F, scales[2 * pair]);
                FloatVector min = FloatVector.broadcast(F, mins[2 * pair]);
                acc = fma16(v0.and((byte) 0x0F), scale, min, x, xi, acc);
                acc = fma16(v1.and((byte) 0x0F), scale, min, x, xi + 16, acc);
                scale = FloatVector.broadcast(F, scales[2 * pair + 1]);
                min = FloatVector.broadcast(F, mins[2 * pair + 1]);
                acc = fma16(highNibbles(v0), scale, min, x, xi + 32, acc);
                acc = fma16(highNibbles(v1), scale, min, x, xi + 48, acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #dotGrouped} for Q8_0 (32-value blocks of an fp16 scale and 32 signed byte codes), fused: the codes
     * are widened straight from the segment instead of copied through a per-call code array. Bit-identical to
     * {@link #dotGrouped}.
     */
    static float dotScaledBytes(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < count; i += 32, offset += 34) {
            FloatVector scale = FloatVector.broadcast(F, QuantBits.fp16(src, offset));
            acc = fma16(ByteVector.fromMemorySegment(CodeUnpack.B16, src, offset + 2, LE), scale, null, x,
                    xOffset + i, acc);
            acc = fma16(ByteVector.fromMemorySegment(CodeUnpack.B16, src, offset + 18, LE), scale, null, x,
                    xOffset + i + 16, acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #dotGrouped} for Q6_K, fused as {@link #dotScaledNibbles}: per 128-value half, the 64 bytes of
     * {@code ql} hold values 0-63 in their low and 64-127 in their high nibbles, and the 32 bytes of {@code qh}
     * hold the top two bits of values {@code 32q + i} in bits {@code 2q, 2q+1} of byte {@code i}. Codes are
     * {@code (nibble | 16 * crumb) - 32}, groups of 16 scaled by {@code d * sc}, visited in value order as in
     * {@link #dotGrouped}; bit-identical to it.
     */
    static float dotQ6K(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < count; i += 256, offset += 210) {
            float d = QuantBits.fp16(src, offset + 208);
            for (int group = 0; group < 16; group++) {
                // group (values 16*group..+15): half h = group/8, g = group%8 within it; ql bytes 64h + 16*(g%4)..
                // (low nibble for g < 4, high for g >= 4), qh bytes 128 + 32h + 16*(g%2).., bits 2*(g/2)..+1.
                // Shifts run in 16-bit lanes (x86 has no byte shifts); the masks drop bits from the next byte.
                int half = group >> 3;
                int g = group & 7;
                ByteVector l = ByteVector.fromMemorySegment(CodeUnpack.B16, src,
                        offset + 64L * half + 16 * (g & 3), LE);
                ByteVector h = ByteVector.fromMemorySegment(CodeUnpack.B16, src,
                        offset + 128 + 32L * half + 16 * (g & 1), LE);
                ByteVector nibbles = l.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4 * (g >> 2))
                        .reinterpretAsBytes().and((byte) 0x0F);
                ByteVector high = h.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2 * (g >> 1))
                        .reinterpretAsBytes().and((byte) 3)
                        .reinterpretAsShorts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes();
                float scale = d * src.get(ValueLayout.JAVA_BYTE, offset + 192 + group); // as Q6KCodec.unpack
                acc = fma16(nibbles.or(high).sub((byte) 32), FloatVector.broadcast(F, scale), null, x,
                        xOffset + i + 16 * group, acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** The same float operations as every decoder ({@code scale * code - min}, rounded twice), in lanes. */
    static void decodeGrouped(GroupedCodes codec, MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        GgmlType type = codec.type();
        int bs = type.blockSize();
        int bb = type.blockBytes();
        int gs = codec.groupSize();
        int groups = bs / gs;
        byte[] codes = new byte[bs];
        float[] scales = new float[groups];
        float[] mins = new float[groups];
        for (int i = 0; i < count; i += bs, offset += bb) {
            codec.unpack(src, offset, codes, 0, scales, mins, 0);
            for (int g = 0; g < groups; g++) {
                FloatVector scale = FloatVector.broadcast(F, scales[g]);
                FloatVector min = FloatVector.broadcast(F, mins[g]);
                for (int j = g * gs; j < (g + 1) * gs; j += F.length()) {
                    codesToFloats(codes, j).mul(scale).sub(min).intoArray(dst, dstOffset + i + j);
                }
            }
        }
    }

    /** One value per element: how {@code F.length()} stored values at {@code offset} become float lanes. */
    enum FloatFormat {
        F32(4) {
            @Override
            FloatVector load(MemorySegment src, long offset) {
                return FloatVector.fromMemorySegment(F, src, offset, LE);
            }
        },
        /** bfloat16 is the top half of a float32. */
        BF16(2) {
            @Override
            FloatVector load(MemorySegment src, long offset) {
                return halves(src, offset).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            }
        },
        /**
         * IEEE half: exponent and mantissa shifted into float position are the value times 2^-112 for normal and
         * subnormal halves alike, so one exact multiplication by 2^112 rescales both; infinities and NaNs keep
         * their mantissa under an all-ones exponent (as {@link Float#float16ToFloat}).
         */
        F16(2) {
            @Override
            FloatVector load(MemorySegment src, long offset) {
                IntVector h = halves(src, offset);
                IntVector magnitude = h.and(0x7FFF);
                IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
                IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
                VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7C00);
                IntVector bits = finite.blend(shifted.or(0x7F800000), special);
                return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
            }
        };

        final int bytes;

        FloatFormat(int bytes) {
            this.bytes = bytes;
        }

        abstract FloatVector load(MemorySegment src, long offset);

        private static IntVector halves(MemorySegment src, long offset) {
            return (IntVector) ShortVector.fromMemorySegment(SHORTS_PER_F, src, offset, LE)
                    .convertShape(VectorOperators.S2I, INTS_PER_F, 0);
        }
    }

    /**
     * Dot product of {@code count} values in {@code format}; {@code codec} finishes the values that do not fill
     * a vector. Two accumulators hide the FMA latency (these formats are read at memory speed).
     */
    static float dotFloats(FloatFormat format, BlockCodec codec, MemorySegment src, long offset, float[] x,
            int xOffset, int count) {
        int lanes = F.length();
        int vectorEnd = count - count % (2 * lanes);
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i < vectorEnd; i += 2 * lanes) {
            acc0 = format.load(src, offset + (long) i * format.bytes).fma(FloatVector.fromArray(F, x, xOffset + i), acc0);
            acc1 = format.load(src, offset + (long) (i + lanes) * format.bytes)
                    .fma(FloatVector.fromArray(F, x, xOffset + i + lanes), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        if (i < count) {
            sum += BlockCodec.referenceDot(codec, src, offset + (long) i * format.bytes, x, xOffset + i, count - i);
        }
        return sum;
    }

    /** Decodes {@code count} values in {@code format}, bit-identical to the scalar decoders. */
    static void decodeFloats(FloatFormat format, BlockCodec codec, MemorySegment src, long offset, float[] dst,
            int dstOffset, int count) {
        int lanes = F.length();
        int vectorEnd = count - count % lanes;
        int i = 0;
        for (; i < vectorEnd; i += lanes) {
            format.load(src, offset + (long) i * format.bytes).intoArray(dst, dstOffset + i);
        }
        for (; i < count; i++) {
            codec.decodeBlock(src, offset + (long) i * format.bytes, dst, dstOffset + i);
        }
    }

    // ---- integer path --------------------------------------------------------------------------------------

    /** Float lanes matching the int lanes of {@link #INTS_PER_S}. */
    private static final VectorSpecies<Float> FLOATS_PER_S = FloatVector.SPECIES_PREFERRED.withShape(S.vectorShape());

    /**
     * {@code Σ a[ai+i] * b[bi+i]} for {@code n} (a multiple of 16) signed bytes {@code a} and 8-bit values
     * {@code b} already widened to shorts, left in 32-bit lanes. The bytes widen to 16-bit lanes and multiply
     * there (|a·b| ≤ 128·127 fits); each pair of 16-bit products is then split out of its 32-bit lane by shifts and
     * added, which is what {@code pmaddwd} does in one instruction.
     */
    private static IntVector dotBytesLanes(byte[] a, int ai, short[] b, int bi, int n) {
        IntVector acc = IntVector.zero(INTS_PER_S);
        for (int i = 0; i < n; i += S.length()) {
            ShortVector va = (ShortVector) ByteVector.fromArray(BYTES_PER_S, a, ai + i)
                    .convertShape(VectorOperators.B2S, S, 0);
            IntVector pairs = va.mul(ShortVector.fromArray(S, b, bi + i)).reinterpretAsInts();
            acc = acc.add(pairs.lanewise(VectorOperators.ASHR, 16))
                    .add(pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
        }
        return acc;
    }

    /** The exact integer {@code Σ a[ai+i] * b[bi+i]} of {@link #dotBytesLanes}. */
    static int dotBytes(byte[] a, int ai, short[] b, int bi, int n) {
        return dotBytesLanes(a, ai, b, bi, n).reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@code Σ_g factors[g] * (codes · q over group g)} for {@code groups} groups of {@code groupSize} values
     * ({@code codes} from index 0, {@code q} from {@code qOffset}): each group's integer products stay in lanes,
     * are converted to float once and scaled into a float accumulator, so nothing is reduced per group.
     */
    static float dotGroups(byte[] codes, short[] q, int qOffset, float[] factors, int groups, int groupSize) {
        FloatVector acc = FloatVector.zero(FLOATS_PER_S);
        for (int g = 0; g < groups; g++) {
            int start = g * groupSize;
            FloatVector products = (FloatVector) dotBytesLanes(codes, start, q, qOffset + start, groupSize)
                    .convert(VectorOperators.I2F, 0);
            acc = products.fma(FloatVector.broadcast(FLOATS_PER_S, factors[g]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
