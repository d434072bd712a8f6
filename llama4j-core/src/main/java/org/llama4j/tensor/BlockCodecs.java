package org.llama4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.IntStream;

/** The codec of each supported type. */
public final class BlockCodecs {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Blocks one parallel quantization task encodes (about a millisecond of work for the K-quants). */
    private static final int QUANTIZE_CHUNK_BLOCKS = 1024;

    private static final Map<GgmlType, BlockCodec> CODECS = new EnumMap<>(GgmlType.class);

    static {
        register(new ScalarCodec(GgmlType.F32, SimdDot.FloatFormat.F32) {
            @Override
            public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
                dst[dstOffset] = src.get(F32, offset);
            }

            @Override
            public void encodeBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
                dst.set(F32, offset, src[srcOffset]);
            }
        });
        register(new ScalarCodec(GgmlType.F16, SimdDot.FloatFormat.F16) {
            @Override
            public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
                dst[dstOffset] = Float.float16ToFloat(src.get(I16, offset));
            }

            @Override
            public void encodeBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
                dst.set(I16, offset, Float.floatToFloat16(src[srcOffset]));
            }
        });
        register(new ScalarCodec(GgmlType.BF16, SimdDot.FloatFormat.BF16) {
            @Override
            public void decodeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
                dst[dstOffset] = Float.intBitsToFloat(src.get(I16, offset) << 16);
            }

            @Override
            public void encodeBlock(float[] src, int srcOffset, MemorySegment dst, long offset) {
                dst.set(I16, offset, floatToBf16(src[srcOffset]));
            }
        });
        register(new ScaledBlockCodec(GgmlType.Q8_0, CodePlane.SIGNED_BYTES, new QuantSearch.IntRange(-127, 127)));
        register(new ScaledBlockCodec(GgmlType.Q4_0, CodePlane.NIBBLES, new QuantSearch.IntRange(-8, 7)));
        register(new ScaledBlockCodec(GgmlType.Q5_0, CodePlane.NIBBLES_WITH_HIGH_BITS, new QuantSearch.IntRange(-16, 15)));
        register(new ScaledBlockCodec(GgmlType.IQ4_NL, CodePlane.NIBBLES, IQ4XSCodec.LEVELS));
        register(new AffineBlockCodec(GgmlType.Q4_1, CodePlane.NIBBLES, 15));
        register(new AffineBlockCodec(GgmlType.Q5_1, CodePlane.NIBBLES_WITH_HIGH_BITS, 31));
        register(new Q2KCodec());
        register(new Q3KCodec());
        register(new Q4KCodec());
        register(new Q5KCodec());
        register(new Q6KCodec());
        register(new IQ4XSCodec());
    }

    private BlockCodecs() {
    }

    static void register(BlockCodec codec) {
        CODECS.put(codec.type(), codec);
    }

    /** The codec for {@code type}; fails with the type's name when llama4j cannot decode it. */
    public static BlockCodec of(GgmlType type) {
        BlockCodec c = CODECS.get(type);
        if (c == null) {
            throw new UnsupportedOperationException("tensor type " + type + " is not supported by llama4j");
        }
        return c;
    }

    /**
     * Encodes {@code values} (a whole number of {@code type} blocks; rows of a tensor simply follow each other,
     * as every row is a whole number of blocks) into a new native segment of {@code type.byteSize} bytes.
     */
    public static MemorySegment quantize(float[] values, GgmlType type) {
        long bytes = type.byteSize(values.length);
        if (bytes < 0) {
            throw new IllegalArgumentException(values.length + " values are not a whole number of " + type
                    + " blocks of " + type.blockSize());
        }
        MemorySegment out = Arena.ofAuto().allocate(bytes, 32);
        BlockCodec codec = of(type);
        // blocks are independent and land in disjoint bytes: large inputs are encoded in parallel chunks
        int chunkValues = type.blockSize() * QUANTIZE_CHUNK_BLOCKS;
        int chunks = (values.length + chunkValues - 1) / chunkValues;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int start = c * chunkValues;
            int count = Math.min(chunkValues, values.length - start);
            codec.encode(values, start, out, (long) start / type.blockSize() * type.blockBytes(), count);
        });
        return out;
    }

    /** Round-to-nearest-even, as PyTorch and ggml convert float32 to bfloat16 (NaN stays NaN). */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** Types of one value per block: decoded and multiplied a vector of values at a time. */
    private abstract static class ScalarCodec implements BlockCodec {
        private final GgmlType type;
        private final SimdDot.FloatFormat format;

        ScalarCodec(GgmlType type, SimdDot.FloatFormat format) {
            this.type = type;
            this.format = format;
        }

        @Override
        public GgmlType type() {
            return type;
        }

        @Override
        public float dot(MemorySegment src, long offset, float[] x, int xOffset, int count) {
            return SimdDot.dotFloats(format, this, src, offset, x, xOffset, count);
        }

        @Override
        public void decode(MemorySegment src, long offset, float[] dst, int dstOffset, int count) {
            SimdDot.decodeFloats(format, this, src, offset, dst, dstOffset, count);
        }
    }
}
