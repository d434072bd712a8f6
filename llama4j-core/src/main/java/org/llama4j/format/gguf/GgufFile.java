package org.llama4j.format.gguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.llama4j.format.ModelFormatException;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;

/**
 * A GGUF file (versions 2 and 3, little-endian), memory-mapped: opening parses and validates the metadata and the
 * tensor table and copies nothing else; every {@link #tensor tensor} is a zero-copy slice of the mapping, valid
 * until {@link #close()}.
 *
 * <p>Layout: magic {@code GGUF}, uint32 version, uint64 tensor count, uint64 metadata count, the metadata
 * entries (string key, uint32 value type, value), the tensor infos (string name, uint32 n_dims, n_dims uint64
 * dimensions in ggml order, uint32 ggml type, uint64 offset relative to the data section), padding to
 * {@code general.alignment} (default 32), then the data section.
 *
 * <p>Nothing read from the file is trusted: counts and lengths are bounded by the bytes that remain before
 * anything is allocated, shapes are multiplied overflow-safely, tensor data must be aligned, inside the file and
 * not overlapping. Every defect is a {@link ModelFormatException} naming the file, the section, the byte offset
 * and what was expected versus found.
 *
 * <p>Metadata values ({@link #get}) are represented as: {@code Long} for every integer type (unsigned types are
 * zero-extended, so a UINT64 above {@link Long#MAX_VALUE} comes back as its negative bit pattern), {@code Float}
 * for FLOAT32, {@code Double} for FLOAT64, {@code Boolean}, {@code String}, and {@link GgufArray} for arrays.
 * The typed getters convert and range-check; asking for the wrong type or an absent key is a
 * {@link ModelFormatException} naming the file, the key, and the expected and found types.
 *
 * <p>Thread-safe for reading once opened. Closing unmaps the file: tensors obtained from it must no longer be used.
 */
public final class GgufFile implements AutoCloseable {
    /** "GGUF" read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    public static final String ALIGNMENT_KEY = "general.alignment";
    public static final int DEFAULT_ALIGNMENT = 32;
    /** Fewest bytes a metadata entry can take: key length, value type, a one-byte value (key non-empty: +1). */
    private static final int MIN_KV_BYTES = 8 + 1 + 4 + 1;
    /** Fewest bytes a tensor info can take: name length + 1 byte, n_dims, one dimension, type, offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8;
    /** Alignments above this are surely corrupt (ggml uses 32; nothing sensible needs more than 1 GiB). */
    static final long MAX_ALIGNMENT = 1L << 30;

    private record Entry(GgufValueType type, Object value) {
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final long alignment;
    private final long dataOffset;
    private final Map<String, Entry> metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private boolean closed;

    private GgufFile(Path path, Arena arena, MemorySegment mapping, int version, long alignment, long dataOffset,
                     Map<String, Entry> metadata, Map<String, GgufTensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.version = version;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /**
     * Maps and validates {@code path}.
     *
     * @throws ModelFormatException when the file is not a valid GGUF v2/v3 file
     * @throws UncheckedIOException when it cannot be read at all (absent, no permission, ...)
     */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapping;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                long size = channel.size();
                mapping = size == 0 ? MemorySegment.ofArray(new byte[0])
                        : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            return parse(path, arena, mapping);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read GGUF file " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment mapping) {
        GgufCursor in = new GgufCursor(mapping, path);
        in.section("header");
        if (mapping.byteSize() >= 4 && mapping.get(GgufCursor.I32, 0) != MAGIC) {
            throw in.error(0, "not a GGUF file: the first 4 bytes are " + describeMagic(mapping)
                    + ", expected \"GGUF\"");
        }
        in.i32("magic");
        int version = in.i32("version");
        if (version == 1) {
            throw in.error(4, "GGUF version 1 is not supported (it predates 64-bit counts); found version 1, "
                    + "expected 2 or 3: re-convert the model with a current llama.cpp");
        }
        if (version != 2 && version != 3) {
            boolean bigEndian = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3;
            throw in.error(4, bigEndian
                    ? "big-endian GGUF (version " + Integer.reverseBytes(version) + ") is not supported: "
                            + "llama4j reads little-endian files"
                    : "unsupported GGUF version " + Integer.toUnsignedString(version) + ", expected 2 or 3");
        }
        long tensorCount = in.count("tensor count", MIN_TENSOR_INFO_BYTES);
        long kvCount = in.count("metadata entry count", MIN_KV_BYTES);

        // capacities from the (bounded, but untrusted) counts are capped: the maps grow with what is really read
        Map<String, Entry> metadata = LinkedHashMap.newLinkedHashMap((int) Math.min(kvCount, 1024));
        for (long i = 0; i < kvCount; i++) {
            long at = in.position();
            in.section("metadata entry #" + i);
            String key = in.string("key");
            if (key.isEmpty()) {
                throw in.error(at, "empty metadata key");
            }
            in.section("metadata entry #" + i + " '" + key + "'");
            GgufValueType type = in.valueType("value type");
            Object value = in.value(type, "value");
            if (metadata.putIfAbsent(key, new Entry(type, value)) != null) {
                throw in.error(at, "duplicate metadata key '" + key + "'");
            }
        }

        in.section("metadata entry '" + ALIGNMENT_KEY + "'");
        long alignment = DEFAULT_ALIGNMENT;
        Entry alignmentEntry = metadata.get(ALIGNMENT_KEY);
        if (alignmentEntry != null) {
            if (!alignmentEntry.type().isInteger()) {
                throw in.error(in.position(), ALIGNMENT_KEY + " has type " + alignmentEntry.type()
                        + ", expected UINT32");
            }
            alignment = (Long) alignmentEntry.value();
            if (alignment <= 0 || Long.bitCount(alignment) != 1 || alignment > MAX_ALIGNMENT) {
                throw in.error(in.position(), ALIGNMENT_KEY + " is " + Long.toUnsignedString(alignment)
                        + ", expected a power of two between 1 and " + MAX_ALIGNMENT);
            }
        }

        Map<String, GgufTensorInfo> tensors = LinkedHashMap.newLinkedHashMap((int) Math.min(tensorCount, 1024));
        List<Long> infoPositions = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            long at = in.position();
            infoPositions.add(at);
            GgufTensorInfo info = readTensorInfo(in, i, alignment);
            if (tensors.putIfAbsent(info.name(), info) != null) {
                throw in.error(at, "duplicate tensor name '" + info.name() + "'");
            }
        }
        long dataOffset = (in.position() + alignment - 1) & -alignment;
        checkDataRanges(in, tensors, infoPositions, dataOffset);
        return new GgufFile(path, arena, mapping, version, alignment, dataOffset,
                Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(tensors));
    }

    private static GgufTensorInfo readTensorInfo(GgufCursor in, long index, long alignment) {
        long at = in.position();
        in.section("tensor info #" + index);
        String name = in.string("tensor name");
        if (name.isEmpty()) {
            throw in.error(at, "empty tensor name");
        }
        in.section("tensor info #" + index + " '" + name + "'");
        long dimsAt = in.position();
        long nDims = in.u32("n_dims");
        if (nDims < 1 || nDims > 4) {
            throw in.error(dimsAt, "tensor '" + name + "' has n_dims " + nDims + ", expected 1 to 4");
        }
        long[] shape = new long[(int) nDims];
        for (int d = 0; d < nDims; d++) {
            shape[d] = in.i64("dimension " + d);
            if (shape[d] < 0) {
                throw in.error(in.position() - 8, "tensor '" + name + "' dimension " + d + " is "
                        + Long.toUnsignedString(shape[d]) + ", more than the int64 maximum");
            }
        }
        long typeAt = in.position();
        long typeId = in.u32("ggml type");
        GgmlType type = GgmlType.fromId(typeId).orElseThrow(() -> in.error(typeAt, "tensor '" + name
                + "' has unknown ggml type id " + typeId));
        long offsetAt = in.position();
        long offset = in.i64("data offset");
        long elements;
        try {
            elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
        } catch (ArithmeticException e) {
            throw in.error(dimsAt, "tensor '" + name + "' shape " + Arrays.toString(shape)
                    + " has more elements than a long can count");
        }
        if (shape[0] % type.blockSize() != 0) {
            throw in.error(dimsAt, "tensor '" + name + "' row length " + shape[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize());
        }
        long byteSize = type.byteSize(elements);
        if (byteSize < 0) {
            throw in.error(dimsAt, "tensor '" + name + "' shape " + Arrays.toString(shape) + " of " + type
                    + " needs more bytes than a long can count");
        }
        if (offset < 0 || offset % alignment != 0) {
            throw in.error(offsetAt, "tensor '" + name + "' data offset " + Long.toUnsignedString(offset)
                    + " is not a multiple of the alignment " + alignment);
        }
        return new GgufTensorInfo(name, type, shape, offset, byteSize);
    }

    /** Every tensor's data lies inside the file and no two overlap. */
    private static void checkDataRanges(GgufCursor in, Map<String, GgufTensorInfo> tensors,
                                        List<Long> infoPositions, long dataOffset) {
        if (tensors.isEmpty()) {
            return; // a vocabulary-only file may end right after its metadata, without padding
        }
        long dataSize = in.size() - dataOffset;
        if (dataSize < 0) {
            in.section("data section");
            throw in.error(in.size(), "file truncated: the data section starts at byte " + dataOffset
                    + " but the file has only " + in.size() + " bytes");
        }
        List<GgufTensorInfo> infos = new ArrayList<>(tensors.values());
        for (int i = 0; i < infos.size(); i++) {
            GgufTensorInfo t = infos.get(i);
            if (t.offset() > dataSize || t.byteSize() > dataSize - t.offset()) {
                in.section("tensor info #" + i + " '" + t.name() + "'");
                throw in.error(infoPositions.get(i), "tensor '" + t.name() + "' data [" + t.offset() + ", "
                        + (t.offset() + t.byteSize()) + ") of the data section extends past its end: the file is"
                        + " truncated or the offset is wrong (data section of " + dataSize + " bytes from byte "
                        + dataOffset + ")");
            }
        }
        // In offset order, each non-empty tensor must start at or after the end of the previous non-empty one
        // (empty tensors are skipped: one between two others must not hide their overlap).
        infos.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        GgufTensorInfo previous = null;
        for (GgufTensorInfo t : infos) {
            if (t.byteSize() == 0) {
                continue;
            }
            if (previous != null && previous.offset() + previous.byteSize() > t.offset()) {
                throw overlap(in, previous, t, dataOffset);
            }
            previous = t;
        }
    }

    private static ModelFormatException overlap(GgufCursor in, GgufTensorInfo a, GgufTensorInfo b, long dataOffset) {
        in.section("tensor infos");
        return in.error(dataOffset + b.offset(), "tensors '" + a.name() + "' [" + a.offset() + ", "
                + (a.offset() + a.byteSize()) + ") and '" + b.name() + "' [" + b.offset() + ", "
                + (b.offset() + b.byteSize()) + ") overlap in the data section");
    }

    private static String describeMagic(MemorySegment mapping) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            int b = Byte.toUnsignedInt(mapping.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i));
            sb.append(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b));
        }
        return "\"" + sb + "\"";
    }

    public Path path() {
        return path;
    }

    /** 2 or 3 (the layouts are identical; 3 only added big-endian files, which llama4j does not read). */
    public int version() {
        return version;
    }

    /** The data alignment: {@code general.alignment}, or 32 when absent. */
    public long alignment() {
        return alignment;
    }

    /** Absolute byte offset of the data section in the file. */
    public long dataOffset() {
        return dataOffset;
    }

    // ---------------------------------------------------------------- metadata

    /** All metadata keys, in file order. */
    public Set<String> keys() {
        return metadata.keySet();
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public GgufValueType typeOf(String key) {
        return entry(key).type();
    }

    /** The raw value, in the representation described in the class comment. */
    public Object get(String key) {
        return entry(key).value();
    }

    public Optional<Object> find(String key) {
        Entry e = metadata.get(key);
        return e == null ? Optional.empty() : Optional.of(e.value());
    }

    public String getString(String key) {
        return (String) expect(key, GgufValueType.STRING).value();
    }

    /** Any integer type; a UINT64 above {@link Long#MAX_VALUE} is an error. */
    public long getLong(String key) {
        Entry e = entry(key);
        if (!e.type().isInteger()) {
            throw wrongType(key, "an integer type", e.type());
        }
        long v = (Long) e.value();
        if (e.type() == GgufValueType.UINT64 && v < 0) {
            throw new ModelFormatException(path + ": metadata key '" + key + "' is " + Long.toUnsignedString(v)
                    + ", which exceeds the int64 range");
        }
        return v;
    }

    /** Any integer type whose value fits an int. */
    public int getInt(String key) {
        long v = getLong(key);
        if (v != (int) v) {
            throw new ModelFormatException(path + ": metadata key '" + key + "' is " + v
                    + ", expected a value in the int32 range");
        }
        return (int) v;
    }

    /** FLOAT32, or FLOAT64 rounded to float. */
    public float getFloat(String key) {
        return (float) getDouble(key);
    }

    /** FLOAT32 or FLOAT64. */
    public double getDouble(String key) {
        Entry e = entry(key);
        return switch (e.value()) {
            case Float f -> f;
            case Double d -> d;
            default -> throw wrongType(key, "FLOAT32 or FLOAT64", e.type());
        };
    }

    public boolean getBoolean(String key) {
        return (Boolean) expect(key, GgufValueType.BOOL).value();
    }

    /** An array of any element type. */
    public GgufArray getArray(String key) {
        return (GgufArray) expect(key, GgufValueType.ARRAY).value();
    }

    /** An array of strings (a copy). */
    public String[] getStringArray(String key) {
        return ((String[]) expectArray(key, GgufValueType.STRING).values()).clone();
    }

    /** An array of any integer type, every element range-checked to fit an int. */
    public int[] getIntArray(String key) {
        GgufArray a = expectIntegerArray(key);
        if (a.elementType() == GgufValueType.INT32) {
            return ((int[]) a.values()).clone();
        }
        int[] out = new int[a.length()];
        for (int i = 0; i < out.length; i++) {
            long v = a.getLong(i);
            if (v != (int) v) {
                throw new ModelFormatException(path + ": metadata key '" + key + "' element " + i + " is "
                        + (a.elementType() == GgufValueType.UINT64 ? Long.toUnsignedString(v) : v)
                        + ", expected a value in the int32 range");
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** An array of any integer type; UINT64 elements above {@link Long#MAX_VALUE} are an error. */
    public long[] getLongArray(String key) {
        GgufArray a = expectIntegerArray(key);
        long[] out = new long[a.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.getLong(i);
            if (a.elementType() == GgufValueType.UINT64 && out[i] < 0) {
                throw new ModelFormatException(path + ": metadata key '" + key + "' element " + i + " is "
                        + Long.toUnsignedString(out[i]) + ", which exceeds the int64 range");
            }
        }
        return out;
    }

    /** An array of FLOAT32 (a copy), or FLOAT64 rounded to float. */
    public float[] getFloatArray(String key) {
        GgufArray a = getArray(key);
        return switch (a.values()) {
            case float[] f -> f.clone();
            case double[] d -> {
                float[] out = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    out[i] = (float) d[i];
                }
                yield out;
            }
            default -> throw wrongType(key, "ARRAY of FLOAT32", "ARRAY of " + a.elementType());
        };
    }

    public Optional<String> findString(String key) {
        return has(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    /** The value, {@code defaultValue} when absent; present with the wrong type is still an error. */
    public String getStringOr(String key, String defaultValue) {
        return has(key) ? getString(key) : defaultValue;
    }

    public long getLongOr(String key, long defaultValue) {
        return has(key) ? getLong(key) : defaultValue;
    }

    public int getIntOr(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    public float getFloatOr(String key, float defaultValue) {
        return has(key) ? getFloat(key) : defaultValue;
    }

    public boolean getBooleanOr(String key, boolean defaultValue) {
        return has(key) ? getBoolean(key) : defaultValue;
    }

    private Entry entry(String key) {
        Entry e = metadata.get(key);
        if (e == null) {
            throw new ModelFormatException(path + ": metadata key '" + key + "' is absent");
        }
        return e;
    }

    private Entry expect(String key, GgufValueType type) {
        Entry e = entry(key);
        if (e.type() != type) {
            throw wrongType(key, type.name(), describeType(e));
        }
        return e;
    }

    private GgufArray expectArray(String key, GgufValueType elementType) {
        GgufArray a = getArray(key);
        if (a.elementType() != elementType) {
            throw wrongType(key, "ARRAY of " + elementType, "ARRAY of " + a.elementType());
        }
        return a;
    }

    private GgufArray expectIntegerArray(String key) {
        GgufArray a = getArray(key);
        if (!a.elementType().isInteger()) {
            throw wrongType(key, "ARRAY of an integer type", "ARRAY of " + a.elementType());
        }
        return a;
    }

    private static String describeType(Entry e) {
        return e.value() instanceof GgufArray a ? "ARRAY of " + a.elementType() : e.type().name();
    }

    private ModelFormatException wrongType(String key, String expected, Object found) {
        Object foundName = found instanceof GgufValueType t && t == GgufValueType.ARRAY
                ? describeType(metadata.get(key)) : found;
        return new ModelFormatException(path + ": metadata key '" + key + "' has type " + foundName
                + ", expected " + expected);
    }

    // ---------------------------------------------------------------- tensors

    /** The tensor table, in file order. */
    public List<GgufTensorInfo> tensorInfos() {
        return List.copyOf(tensors.values());
    }

    public Optional<GgufTensorInfo> tensorInfo(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /**
     * The tensor as a zero-copy view of the mapping.
     *
     * @throws ModelFormatException when absent, or when its type is one llama4j cannot decode (named)
     */
    public Tensor tensor(String name) {
        return findTensor(name).orElseThrow(() -> new ModelFormatException(path + ": tensor '" + name
                + "' is absent (the file has " + tensors.size() + " tensors)"));
    }

    /**
     * The tensor, or empty when the file has none of that name.
     *
     * @throws ModelFormatException when present but of a type llama4j cannot decode
     */
    public Optional<Tensor> findTensor(String name) {
        GgufTensorInfo info = tensors.get(name);
        if (info == null) {
            return Optional.empty();
        }
        if (!info.type().supported()) {
            throw new ModelFormatException(path + ": tensor '" + name + "' has type " + info.type()
                    + " (ggml type id " + info.type().id() + "), which llama4j cannot decode");
        }
        MemorySegment data = mapping.asSlice(dataOffset + info.offset(), info.byteSize());
        return Optional.of(new BlockTensor(name, info.type(), info.shape(), data));
    }

    /**
     * The raw bytes of a tensor's data, whatever its type (a read-only slice of the mapping): for copying a
     * tensor into another file or checking its bytes.
     */
    public MemorySegment tensorData(String name) {
        GgufTensorInfo info = tensorInfo(name).orElseThrow(() -> new ModelFormatException(path + ": tensor '"
                + name + "' is absent (the file has " + tensors.size() + " tensors)"));
        return mapping.asSlice(dataOffset + info.offset(), info.byteSize());
    }

    // ---------------------------------------------------------------- summary

    /**
     * A human-readable summary: header facts, every metadata entry (arrays abbreviated) and the count of
     * tensors per type.
     */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(path).append(": GGUF v").append(version).append(", ").append(metadata.size())
                .append(" metadata entries, ").append(tensors.size()).append(" tensors, alignment ")
                .append(alignment).append(", data at byte ").append(dataOffset).append('\n');
        metadata.forEach((key, e) -> {
            sb.append("  ").append(key).append(" (").append(describeType(e)).append(") = ");
            if (e.value() instanceof String s) {
                sb.append('"').append(s.length() > 80 ? s.substring(0, 80) + "..." : s).append('"');
            } else {
                sb.append(e.value());
            }
            sb.append('\n');
        });
        Map<GgmlType, Integer> perType = new TreeMap<>();
        long bytes = 0;
        for (GgufTensorInfo t : tensors.values()) {
            perType.merge(t.type(), 1, Integer::sum);
            bytes += t.byteSize();
        }
        sb.append("  tensors: ").append(perType).append(", ").append(bytes).append(" bytes of data\n");
        return sb.toString();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.size() + " keys, " + tensors.size()
                + " tensors]";
    }

    /** Unmaps the file. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
