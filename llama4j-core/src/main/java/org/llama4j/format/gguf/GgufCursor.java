package org.llama4j.format.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.llama4j.format.ModelFormatException;

/**
 * Sequential little-endian reader over the metadata part of a mapped GGUF file. Every read is bounds-checked
 * against the file size before it happens, and every count or length read from the file is bounded by the bytes
 * that remain before anything is allocated for it, so a corrupt file fails with a {@link ModelFormatException}
 * naming the file, the section being read and the byte offset, never with an OOM or an index error.
 */
final class GgufCursor {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Nested arrays deeper than this are rejected: each level costs only 12 bytes, so depth must be capped. */
    static final int MAX_ARRAY_DEPTH = 8;
    /** The largest array a Java array can hold. */
    private static final long MAX_JAVA_ARRAY = Integer.MAX_VALUE - 8;

    private final MemorySegment segment;
    private final long size;
    private final Path file;
    private long position;
    private String section = "header";
    /** Reused for decoding strings, so reading 600k vocabulary strings allocates only the Strings. */
    private byte[] scratch = new byte[256];

    GgufCursor(MemorySegment segment, Path file) {
        this.segment = segment;
        this.size = segment.byteSize();
        this.file = file;
    }

    long position() {
        return position;
    }

    long size() {
        return size;
    }

    long remaining() {
        return size - position;
    }

    /** Names what is being read (e.g. {@code metadata entry #3 'general.name'}) for error messages. */
    void section(String section) {
        this.section = section;
    }

    ModelFormatException error(long at, String message) {
        return new ModelFormatException(file + ": " + message + " [" + section + ", byte " + at + "]");
    }

    private void need(long bytes, String what) {
        if (bytes > size - position) {
            throw error(position, "file truncated: " + what + " needs " + bytes + " bytes, only "
                    + (size - position) + " remain (file size " + size + ")");
        }
    }

    int u8(String what) {
        need(1, what);
        return Byte.toUnsignedInt(segment.get(ValueLayout.JAVA_BYTE, position++));
    }

    short i16(String what) {
        need(2, what);
        short v = segment.get(I16, position);
        position += 2;
        return v;
    }

    int i32(String what) {
        need(4, what);
        int v = segment.get(I32, position);
        position += 4;
        return v;
    }

    long u32(String what) {
        return Integer.toUnsignedLong(i32(what));
    }

    long i64(String what) {
        need(8, what);
        long v = segment.get(I64, position);
        position += 8;
        return v;
    }

    float f32(String what) {
        need(4, what);
        float v = segment.get(F32, position);
        position += 4;
        return v;
    }

    double f64(String what) {
        need(8, what);
        double v = segment.get(F64, position);
        position += 8;
        return v;
    }

    boolean bool(String what) {
        long at = position;
        int b = u8(what);
        if (b > 1) {
            throw error(at, what + ": a bool must be 0 or 1, found " + b);
        }
        return b == 1;
    }

    /** A uint64 count of items each occupying at least {@code minItemBytes}, bounded by the bytes left. */
    long count(String what, long minItemBytes) {
        long at = position;
        long n = i64(what);
        long max = remaining() / minItemBytes;
        if (n < 0 || n > max) {
            throw error(at, what + " is " + Long.toUnsignedString(n) + ", but the " + remaining()
                    + " bytes left in the file hold at most " + max + " (" + minItemBytes
                    + " bytes each at least): the file is truncated or the count is corrupt");
        }
        return n;
    }

    String string(String what) {
        long at = position;
        long len = i64(what + " length");
        if (len < 0 || len > remaining()) {
            throw error(at, what + " length is " + Long.toUnsignedString(len) + " bytes, but only " + remaining()
                    + " bytes remain in the file: the file is truncated or the length is corrupt");
        }
        if (len > MAX_JAVA_ARRAY) {
            throw error(at, what + " length " + len + " is too long for a Java string");
        }
        int n = (int) len;
        if (scratch.length < n) {
            scratch = new byte[Math.max(n, (int) Math.min(MAX_JAVA_ARRAY, 2L * scratch.length))];
        }
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, position, scratch, 0, n);
        position += n;
        return new String(scratch, 0, n, StandardCharsets.UTF_8);
    }

    GgufValueType valueType(String what) {
        long at = position;
        long id = u32(what);
        return GgufValueType.fromId(id).orElseThrow(() -> error(at, "unknown " + what + " id " + id
                + " (GGUF value types are 0..12)"));
    }

    /**
     * A value of {@code type} in the representation {@link GgufFile#get} documents: Long for every integer type
     * (unsigned ones zero-extended), Float, Double, Boolean, String, or {@link GgufArray}.
     */
    Object value(GgufValueType type, String what) {
        return switch (type) {
            case UINT8 -> (long) u8(what);
            case INT8 -> (long) (byte) u8(what);
            case UINT16 -> (long) Short.toUnsignedInt(i16(what));
            case INT16 -> (long) i16(what);
            case UINT32 -> u32(what);
            case INT32 -> (long) i32(what);
            case UINT64, INT64 -> i64(what);
            case FLOAT32 -> f32(what);
            case FLOAT64 -> f64(what);
            case BOOL -> bool(what);
            case STRING -> string(what);
            case ARRAY -> array(what, 1);
        };
    }

    private GgufArray array(String what, int depth) {
        GgufValueType elementType = valueType(what + " element type");
        if (elementType == GgufValueType.ARRAY && depth >= MAX_ARRAY_DEPTH) {
            throw error(position - 4, what + ": arrays nested deeper than " + MAX_ARRAY_DEPTH + " levels");
        }
        long at = position;
        long count = count(what + " length (" + elementType + " elements)", elementType.minEncodedSize());
        if (count > MAX_JAVA_ARRAY) {
            throw error(at, what + " has " + count + " elements, more than one Java array can hold");
        }
        int n = (int) count;
        Object values = switch (elementType) {
            case UINT8, INT8 -> bulk(new byte[n], ValueLayout.JAVA_BYTE, n);
            case UINT16, INT16 -> bulk(new short[n], I16, n);
            case UINT32, INT32 -> bulk(new int[n], I32, n);
            case UINT64, INT64 -> bulk(new long[n], I64, n);
            case FLOAT32 -> bulk(new float[n], F32, n);
            case FLOAT64 -> bulk(new double[n], F64, n);
            case BOOL -> {
                boolean[] a = new boolean[n];
                String elementWhat = what + " element";
                for (int i = 0; i < n; i++) {
                    a[i] = bool(elementWhat);
                }
                yield a;
            }
            case STRING -> {
                String[] a = new String[initialCapacity(n)];
                String elementWhat = what + " element";
                for (int i = 0; i < n; i++) {
                    if (i == a.length) {
                        a = Arrays.copyOf(a, grownCapacity(i, n));
                    }
                    a[i] = string(elementWhat);
                }
                yield a;
            }
            case ARRAY -> {
                GgufArray[] a = new GgufArray[initialCapacity(n)];
                for (int i = 0; i < n; i++) {
                    if (i == a.length) {
                        a = Arrays.copyOf(a, grownCapacity(i, n));
                    }
                    a[i] = array(what + " element " + i, depth + 1);
                }
                yield a;
            }
        };
        return new GgufArray(elementType, values);
    }

    /*
     * Strings and nested arrays cost far more heap than their minimum encoded size (a reference plus an object
     * against 8 or 12 bytes), so a count that is merely bounded by the file size could still claim gigabytes in a
     * large model file. Their Java arrays therefore grow with what is actually read; a false count runs out of
     * bytes (a truncation error) long before it runs out of heap. Fixed-size elements are copied in one go: their
     * Java array is exactly as large as the bytes the file really holds for them.
     */
    private static int initialCapacity(int count) {
        return Math.min(count, 1 << 12);
    }

    private static int grownCapacity(int current, int count) {
        return (int) Math.min(count, 2L * current);
    }

    /** Copies {@code n} fixed-size elements (the count was already bounded by the bytes left). */
    private <A> A bulk(A dst, ValueLayout layout, int n) {
        MemorySegment.copy(segment, layout, position, dst, 0, n);
        position += n * layout.byteSize();
        return dst;
    }
}
