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
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

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
     * {@code F.length()} bytes at {@code offset} widened to int lanes ({@code vpmovzxbd} / {@code vpmovsxbd} from
     * memory). The fused kernels below do their bit work on these int lanes: x86 has no byte shifts, and int lanes
     * convert to float lanes in one instruction. Loading exactly one vector's worth (rather than converting part 1 of
     * a wider load) keeps the kernels small enough for C2 to inline every Vector API call on 256-bit machines too.
     */
    private static IntVector intsAt(MemorySegment src, long offset, boolean signed) {
        return (IntVector) ByteVector.fromMemorySegment(BYTES_PER_F, src, offset, LE)
                .convertShape(signed ? VectorOperators.B2I : VectorOperators.ZERO_EXTEND_B2I, INTS_PER_F, 0);
    }

    private static FloatVector toFloats(IntVector codes) {
        return (FloatVector) codes.convert(VectorOperators.I2F, 0);
    }

    private static FloatVector xAt(float[] x, int xi) {
        return FloatVector.fromArray(F, x, xi);
    }

    /**
     * The fused kernels unpack codes in registers instead of through a code array, which decode's batch-1 matvecs
     * spend most of their time on, and sum {@code codes·x} per scale group before scaling the group once
     * ({@code Σ (d·q)·x = d · Σ q·x}): a third of the float operations of decoding every value. They equal
     * {@link BlockCodec#referenceDot} up to float summation order (tested).
     *
     * <p>Q4_0 (and other 32-value blocks of an fp16 scale and 16 bytes of plain nibbles): code = nibble +
     * {@code delta}, values {@code 0..15} in the low nibbles, {@code 16..31} in the high ones.
     */
    static float dotScaledNibbles(MemorySegment src, long offset, int delta, float[] x, int xOffset, int count) {
        FloatVector acc = FloatVector.zero(F);
        int lanes = F.length();
        for (int i = 0; i < count; i += 32, offset += 18) {
            float d = QuantBits.fp16(src, offset);
            FloatVector block = FloatVector.zero(F);
            for (int part = 0; part < 16 / lanes; part++) {
                IntVector c = intsAt(src, offset + 2 + part * lanes, false);
                int xi = xOffset + i + part * lanes;
                block = toFloats(c.and(0x0F).add(delta)).fma(xAt(x, xi), block);
                block = toFloats(c.lanewise(VectorOperators.LSHR, 4).add(delta)).fma(xAt(x, xi + 16), block);
            }
            acc = block.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Q8_0: 32-value blocks of an fp16 scale and 32 signed byte codes. */
    static float dotScaledBytes(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        FloatVector acc = FloatVector.zero(F);
        int lanes = F.length();
        for (int i = 0; i < count; i += 32, offset += 34) {
            float d = QuantBits.fp16(src, offset);
            FloatVector block = FloatVector.zero(F);
            for (int part = 0; part < 16 / lanes; part++) {
                int xi = xOffset + i + part * lanes;
                block = toFloats(intsAt(src, offset + 2 + part * lanes, true)).fma(xAt(x, xi), block);
                block = toFloats(intsAt(src, offset + 18 + part * lanes, true)).fma(xAt(x, xi + 16), block);
            }
            acc = block.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q4_K: 256-value blocks of 8 groups of 32; value = {@code (d·sc)·q - dmin·m} (as {@link Q4KCodec}). Each 32
     * bytes of {@code qs} hold group {@code 2p} in their low and group {@code 2p+1} in their high nibbles. Each
     * value is formed with one fma ({@code q·(d·sc) - dmin·m}) and two accumulators alternate, which measured
     * fastest.
     */
    static float dotQ4K(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int lanes = F.length();
        for (int i = 0; i < count; i += 256, offset += 144) {
            float d = QuantBits.fp16(src, offset);
            float dmin = QuantBits.fp16(src, offset + 2);
            long scales = q4kScales(src, offset);
            long mins = q4kMins(src, offset);
            for (int pair = 0; pair < 4; pair++) {
                long qs = offset + 16 + 32L * pair;
                int xi = xOffset + i + 64 * pair;
                int shift = 16 * pair;
                FloatVector scaleLow = FloatVector.broadcast(F, d * ((scales >>> shift) & 0xFF));
                FloatVector scaleHigh = FloatVector.broadcast(F, d * ((scales >>> (shift + 8)) & 0xFF));
                FloatVector minLow = FloatVector.broadcast(F, -(dmin * ((mins >>> shift) & 0xFF)));
                FloatVector minHigh = FloatVector.broadcast(F, -(dmin * ((mins >>> (shift + 8)) & 0xFF)));
                for (int part = 0; part < 16 / lanes; part++) {
                    IntVector c0 = intsAt(src, qs + part * lanes, false);
                    IntVector c1 = intsAt(src, qs + 16 + part * lanes, false);
                    int p = xi + part * lanes;
                    acc0 = toFloats(c0.and(0x0F)).fma(scaleLow, minLow).fma(xAt(x, p), acc0);
                    acc1 = toFloats(c1.and(0x0F)).fma(scaleLow, minLow).fma(xAt(x, p + 16), acc1);
                    acc0 = toFloats(c0.lanewise(VectorOperators.LSHR, 4)).fma(scaleHigh, minHigh).fma(xAt(x, p + 32), acc0);
                    acc1 = toFloats(c1.lanewise(VectorOperators.LSHR, 4)).fma(scaleHigh, minHigh).fma(xAt(x, p + 48), acc1);
                }
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Byte lanes of the Q6_K bit assembly: one 128-value half of a block is four such vectors. */
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    /** Values per {@link #q6kUnpack} pass (a multiple of the 256-value block): 2.5 KB of L1-resident scratch. */
    private static final int Q6K_CHUNK = 2048;

    /** Per-thread scratch of the Q6_K kernel: allocating it per call cost more than the whole kernel. */
    private static final class Q6KScratch {
        final byte[] codes = new byte[Q6K_CHUNK];
        final float[] scales = new float[Q6K_CHUNK / 16];
    }

    private static final ThreadLocal<Q6KScratch> Q6K_SCRATCH = ThreadLocal.withInitial(Q6KScratch::new);

    /**
     * The 8 six-bit group scales of the Q4_K block at {@code offset}, group {@code g} in byte {@code g}, unpacked from
     * two loads (per-byte segment reads cost the kernels a fifth of their time). Of the 12 scale bytes, groups 0-3
     * keep scale / min in the low 6 bits of bytes 0-3 / 4-7; groups 4-7 have their low 4 bits in the nibbles of
     * bytes 8-11 and their top 2 bits in the top bits of bytes 0-3 / 4-7 (as {@link QuantBits#kScale}).
     */
    static long q4kScales(MemorySegment src, long offset) {
        long lo = src.get(LONG_LE, offset + 4);
        int hi = src.get(INT_LE, offset + 12);
        int scales03 = (int) lo & 0x3F3F3F3F;
        int scales47 = (hi & 0x0F0F0F0F) | (((int) lo >>> 6) & 0x03030303) << 4;
        return (scales03 & 0xFFFFFFFFL) | (long) scales47 << 32;
    }

    /** The 8 six-bit group mins of a Q4_K block, as {@link #q4kScales} (and {@link QuantBits#kMin}). */
    static long q4kMins(MemorySegment src, long offset) {
        long lo = src.get(LONG_LE, offset + 4);
        int hi = src.get(INT_LE, offset + 12);
        int mins03 = (int) (lo >>> 32) & 0x3F3F3F3F;
        int mins47 = ((hi >>> 4) & 0x0F0F0F0F) | (((int) (lo >>> 32) >>> 6) & 0x03030303) << 4;
        return (mins03 & 0xFFFFFFFFL) | (long) mins47 << 32;
    }

    /**
     * Q6_K: 256-value blocks, two halves of 128, codes {@code (nibble | 16·crumb) - 32} with a scale {@code d·sc}
     * per 16 values (as {@link Q6KCodec#unpack}). Two passes per chunk of up to {@link #Q6K_CHUNK} values:
     * {@link #q6kUnpack} assembles the signed codes 32 at a time into scratch (doing that bit work on 16 values at
     * a time cost twice the rest of the kernel), then each 16-value group is widened to floats, dotted with
     * {@code x} and scaled once; two accumulators hide the FMA latency.
     */
    static float dotQ6K(MemorySegment src, long offset, float[] x, int xOffset, int count) {
        Q6KScratch scratch = Q6K_SCRATCH.get();
        byte[] codes = scratch.codes;
        float[] scales = scratch.scales;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int lanes = F.length();
        for (int start = 0; start < count; start += Q6K_CHUNK, offset += Q6K_CHUNK / 256 * 210) {
            int n = Math.min(Q6K_CHUNK, count - start);
            q6kUnpack(src, offset, n, codes, scales);
            int xo = xOffset + start;
            for (int j = 0; j < n; j += 32) {
                FloatVector block0 = FloatVector.zero(F);
                FloatVector block1 = FloatVector.zero(F);
                for (int part = 0; part < 16 / lanes; part++) {
                    int k = j + part * lanes;
                    block0 = codesToFloats(codes, k).fma(xAt(x, xo + k), block0);
                    block1 = codesToFloats(codes, k + 16).fma(xAt(x, xo + k + 16), block1);
                }
                acc0 = block0.fma(FloatVector.broadcast(F, scales[j >> 4]), acc0);
                acc1 = block1.fma(FloatVector.broadcast(F, scales[(j >> 4) + 1]), acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * The signed codes of {@code count} Q6_K values in value order, and their group scales {@code d·sc}. Per half
     * of a block: ql bytes {@code 0..31} hold values {@code 0..31} (low nibbles) and {@code 64..95} (high), ql
     * bytes {@code 32..63} values {@code 32..63} and {@code 96..127}, and qh byte {@code l} the crumbs of values
     * {@code l, l+32, l+64, l+96}. The bit work runs on 32-bit lanes (x86 has no byte shifts); the masks drop the
     * bits shifted across bytes. This method is kept apart from (and too large to be inlined into) the dot loop:
     * C2 stops inlining past a node budget that the two together exceed.
     */
    private static void q6kUnpack(MemorySegment src, long offset, int count, byte[] codes, float[] scales) {
        // No calls to this file's helpers here: past its node budget C2 still inlines the (force-inline) Vector
        // API, but no other method, and a vector passed to a call that is not inlined is boxed.
        int lanes = F.length();
        for (int i = 0; i < count; i += 256, offset += 210) {
            for (int half = 0; half < 2; half++) {
                long ql = offset + 64L * half;
                IntVector a = ByteVector.fromMemorySegment(B32, src, ql, LE).reinterpretAsInts();
                IntVector b = ByteVector.fromMemorySegment(B32, src, ql + 32, LE).reinterpretAsInts();
                IntVector h = ByteVector.fromMemorySegment(B32, src, offset + 128 + 32L * half, LE).reinterpretAsInts();
                IntVector q0 = a.and(0x0F0F0F0F).or(h.lanewise(VectorOperators.LSHL, 4).and(0x30303030));
                IntVector q1 = b.and(0x0F0F0F0F).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30303030));
                IntVector q2 = a.lanewise(VectorOperators.LSHR, 4).and(0x0F0F0F0F).or(h.and(0x30303030));
                IntVector q3 = b.lanewise(VectorOperators.LSHR, 4).and(0x0F0F0F0F)
                        .or(h.lanewise(VectorOperators.LSHR, 2).and(0x30303030));
                int o = i + 128 * half;
                q0.reinterpretAsBytes().sub((byte) 32).intoArray(codes, o);
                q1.reinterpretAsBytes().sub((byte) 32).intoArray(codes, o + 32);
                q2.reinterpretAsBytes().sub((byte) 32).intoArray(codes, o + 64);
                q3.reinterpretAsBytes().sub((byte) 32).intoArray(codes, o + 96);
            }
            float d = QuantBits.fp16(src, offset + 208);
            ByteVector sc = ByteVector.fromMemorySegment(CodeUnpack.B16, src, offset + 192, LE);
            for (int part = 0; part < 16 / lanes; part++) {
                ((FloatVector) sc.convertShape(VectorOperators.B2I, INTS_PER_F, part).convert(VectorOperators.I2F, 0))
                        .mul(d).intoArray(scales, i / 16 + part * lanes);
            }
        }
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

    /**
     * The fused decoders: codes unpacked in registers as in the fused dot kernels above, each value formed with
     * exactly the float operations of the format's {@link BlockCodec#decodeBlock} (bit-identical, tested), so
     * prefill's panels skip {@link #decodeGrouped}'s code and scale arrays. Loop bodies stay one block (or one
     * 64-value pair / 16-value group) small, so C2 keeps inlining the Vector API calls.
     *
     * <p>Q4_0 (as {@link #dotScaledNibbles}): {@code level * d}, level = nibble + {@code delta}.
     */
    static void decodeScaledNibbles(MemorySegment src, long offset, int delta, float[] dst, int dstOffset, int count) {
        int lanes = F.length();
        for (int i = 0; i < count; i += 32, offset += 18) {
            FloatVector d = FloatVector.broadcast(F, QuantBits.fp16(src, offset));
            for (int part = 0; part < 16 / lanes; part++) {
                IntVector c = intsAt(src, offset + 2 + part * lanes, false);
                int o = dstOffset + i + part * lanes;
                toFloats(c.and(0x0F).add(delta)).mul(d).intoArray(dst, o);
                toFloats(c.lanewise(VectorOperators.LSHR, 4).add(delta)).mul(d).intoArray(dst, o + 16);
            }
        }
    }

    /** Q8_0 (as {@link #dotScaledBytes}): {@code level * d}, level = the signed byte. */
    static void decodeScaledBytes(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        int lanes = F.length();
        for (int i = 0; i < count; i += 32, offset += 34) {
            FloatVector d = FloatVector.broadcast(F, QuantBits.fp16(src, offset));
            for (int part = 0; part < 16 / lanes; part++) {
                int o = dstOffset + i + part * lanes;
                toFloats(intsAt(src, offset + 2 + part * lanes, true)).mul(d).intoArray(dst, o);
                toFloats(intsAt(src, offset + 18 + part * lanes, true)).mul(d).intoArray(dst, o + 16);
            }
        }
    }

    /**
     * Q4_K (as {@link #dotQ4K}, one 64-value pair of groups per iteration): {@code (d·sc)·q - dmin·m}, a
     * multiplication and a subtraction rounded separately, as {@link Q4KCodec#applyScaleMin} (no fma).
     */
    static void decodeQ4K(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        for (int i = 0; i < count; i += 256, offset += 144) {
            float d = QuantBits.fp16(src, offset);
            float dmin = QuantBits.fp16(src, offset + 2);
            long scales = q4kScales(src, offset);
            long mins = q4kMins(src, offset);
            for (int pair = 0; pair < 4; pair++) {
                int shift = 16 * pair;
                decodeQ4KPair(src, offset + 16 + 32L * pair, d * ((scales >>> shift) & 0xFF),
                        dmin * ((mins >>> shift) & 0xFF), d * ((scales >>> (shift + 8)) & 0xFF),
                        dmin * ((mins >>> (shift + 8)) & 0xFF), dst, dstOffset + i + 64 * pair);
            }
        }
    }

    /** 32 bytes of Q4_K nibbles: group {@code 2p} (scale / min {@code *Low}) low, {@code 2p+1} high. */
    private static void decodeQ4KPair(MemorySegment src, long qs, float scaleLow, float minLow, float scaleHigh,
            float minHigh, float[] dst, int o) {
        int lanes = F.length();
        FloatVector sl = FloatVector.broadcast(F, scaleLow);
        FloatVector ml = FloatVector.broadcast(F, minLow);
        FloatVector sh = FloatVector.broadcast(F, scaleHigh);
        FloatVector mh = FloatVector.broadcast(F, minHigh);
        for (int part = 0; part < 16 / lanes; part++) {
            IntVector c0 = intsAt(src, qs + part * lanes, false);
            IntVector c1 = intsAt(src, qs + 16 + part * lanes, false);
            int p = o + part * lanes;
            toFloats(c0.and(0x0F)).mul(sl).sub(ml).intoArray(dst, p);
            toFloats(c1.and(0x0F)).mul(sl).sub(ml).intoArray(dst, p + 16);
            toFloats(c0.lanewise(VectorOperators.LSHR, 4)).mul(sh).sub(mh).intoArray(dst, p + 32);
            toFloats(c1.lanewise(VectorOperators.LSHR, 4)).mul(sh).sub(mh).intoArray(dst, p + 48);
        }
    }

    /**
     * Q6_K (the codes and scales of {@link #q6kUnpack}, as {@link #dotQ6K}): {@code (d·sc) * (q - 32)}, the
     * decoder's one rounding.
     */
    static void decodeQ6K(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
        Q6KScratch scratch = Q6K_SCRATCH.get();
        byte[] codes = scratch.codes;
        float[] scales = scratch.scales;
        int lanes = F.length();
        for (int start = 0; start < count; start += Q6K_CHUNK, offset += Q6K_CHUNK / 256 * 210) {
            int n = Math.min(Q6K_CHUNK, count - start);
            q6kUnpack(src, offset, n, codes, scales);
            for (int j = 0; j < n; j += 16) {
                FloatVector scale = FloatVector.broadcast(F, scales[j >> 4]);
                for (int part = 0; part < 16 / lanes; part++) {
                    int k = j + part * lanes;
                    codesToFloats(codes, k).mul(scale).intoArray(dst, dstOffset + start + k);
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
