package org.llama4j.format.gguf;

import java.util.Optional;

/**
 * The metadata value types of GGUF, with their on-disk ids. Each type also names the Java representation
 * {@link GgufFile#get} returns for a scalar and {@link GgufArray} holds for an array element.
 */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    /** uint64 byte length followed by UTF-8 bytes (no terminator). */
    STRING(8, -1),
    /** uint32 element type, uint64 count, then the elements. */
    ARRAY(9, -1),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private final int id;
    private final int fixedSize;

    GgufValueType(int id, int fixedSize) {
        this.id = id;
        this.fixedSize = fixedSize;
    }

    /** The id stored in the file. */
    public int id() {
        return id;
    }

    /** Bytes one value occupies, or -1 for the variable-length types (string, array). */
    public int fixedSize() {
        return fixedSize;
    }

    /**
     * The fewest bytes one value of this type can occupy in a file: what bounds a count read from an untrusted
     * file before anything is allocated for it.
     */
    int minEncodedSize() {
        return switch (this) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> fixedSize;
        };
    }

    /** Whether this is one of the eight integer types (signed or unsigned). */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public boolean isUnsigned() {
        return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
    }

    private static final GgufValueType[] BY_ID = new GgufValueType[13];

    static {
        for (GgufValueType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    public static Optional<GgufValueType> fromId(long id) {
        return id < 0 || id >= BY_ID.length ? Optional.empty() : Optional.of(BY_ID[(int) id]);
    }
}
