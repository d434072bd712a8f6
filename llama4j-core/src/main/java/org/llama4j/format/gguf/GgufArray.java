package org.llama4j.format.gguf;

import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.Objects;

/**
 * A GGUF metadata array: an element type and its values in a primitive Java array, so that large arrays
 * (hundreds of thousands of token scores or types) cost no boxing. The Java array type per element type:
 * <ul>
 *   <li>UINT8, INT8: {@code byte[]}; UINT16, INT16: {@code short[]}; UINT32, INT32: {@code int[]};
 *       UINT64, INT64: {@code long[]} (unsigned values keep their bit pattern: read them with {@link #getLong})</li>
 *   <li>FLOAT32: {@code float[]}; FLOAT64: {@code double[]}; BOOL: {@code boolean[]}; STRING: {@code String[]}</li>
 *   <li>ARRAY (nested arrays): {@code GgufArray[]}</li>
 * </ul>
 * Instances are shared with the caller, not copied: treat the values as read-only.
 */
public record GgufArray(GgufValueType elementType, Object values) {

    public GgufArray {
        Objects.requireNonNull(elementType, "elementType");
        Objects.requireNonNull(values, "values");
        Class<?> expected = javaArrayClass(elementType);
        if (values.getClass() != expected) {
            throw new IllegalArgumentException("a GGUF array of " + elementType + " holds a "
                    + expected.getSimpleName() + ", not a " + values.getClass().getSimpleName());
        }
    }

    static Class<?> javaArrayClass(GgufValueType elementType) {
        return switch (elementType) {
            case UINT8, INT8 -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> GgufArray[].class;
        };
    }

    public static GgufArray ofStrings(String... values) {
        return new GgufArray(GgufValueType.STRING, values);
    }

    public static GgufArray ofInt32(int... values) {
        return new GgufArray(GgufValueType.INT32, values);
    }

    public static GgufArray ofFloat32(float... values) {
        return new GgufArray(GgufValueType.FLOAT32, values);
    }

    public static GgufArray ofArrays(GgufArray... values) {
        return new GgufArray(GgufValueType.ARRAY, values);
    }

    public int length() {
        return Array.getLength(values);
    }

    /**
     * Element {@code i} of an integer array as a long: unsigned types are zero-extended, so a UINT64 element
     * above {@link Long#MAX_VALUE} comes back negative (its bit pattern).
     */
    public long getLong(int i) {
        return switch (elementType) {
            case UINT8 -> Byte.toUnsignedLong(((byte[]) values)[i]);
            case INT8 -> ((byte[]) values)[i];
            case UINT16 -> Short.toUnsignedLong(((short[]) values)[i]);
            case INT16 -> ((short[]) values)[i];
            case UINT32 -> Integer.toUnsignedLong(((int[]) values)[i]);
            case INT32 -> ((int[]) values)[i];
            case UINT64, INT64 -> ((long[]) values)[i];
            default -> throw new IllegalStateException("not an integer array: " + elementType);
        };
    }

    /** Element {@code i} in the representation {@link GgufFile#get} uses for a scalar of the element type. */
    public Object get(int i) {
        return switch (elementType) {
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> ((double[]) values)[i];
            case BOOL -> ((boolean[]) values)[i];
            case STRING -> ((String[]) values)[i];
            case ARRAY -> ((GgufArray[]) values)[i];
            default -> getLong(i);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray a && elementType == a.elementType && Objects.deepEquals(values, a.values);
    }

    @Override
    public int hashCode() {
        return 31 * elementType.hashCode() + Arrays.deepHashCode(new Object[] {values});
    }

    /** The element type, the length and at most the first 8 elements. */
    @Override
    public String toString() {
        int n = length();
        StringBuilder sb = new StringBuilder(elementType.name()).append('[').append(n).append("]{");
        for (int i = 0; i < Math.min(n, 8); i++) {
            Object v = get(i);
            sb.append(i == 0 ? "" : ", ").append(v instanceof String s ? '"' + s + '"' : v);
        }
        return sb.append(n > 8 ? ", ...}" : "}").toString();
    }
}
