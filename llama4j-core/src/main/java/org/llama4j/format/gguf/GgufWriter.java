package org.llama4j.format.gguf;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;

/**
 * Writes a GGUF v3 file: metadata (in insertion order), the tensor table, alignment padding and the tensor data.
 *
 * <p>Only the metadata is held in memory. Tensors are declared with their type and shape (so every offset is known
 * before anything is written) and a {@link TensorSource} that streams the bytes when {@link #write} reaches them,
 * so multi-GB models can be written with a small heap. The file appears atomically: it is written to a temporary
 * file in the target folder and moved into place only when complete, so a failure leaves nothing behind.
 *
 * <p>The data alignment is {@code general.alignment} when the caller puts it (any power of two), else 32.
 * A writer can be written several times; it is not thread-safe.
 */
public final class GgufWriter {

    /** Streams one tensor's data: exactly its byte size, in file order (ggml blocks, little-endian). */
    @FunctionalInterface
    public interface TensorSource {
        void writeTo(Sink sink) throws IOException;
    }

    private record Entry(GgufValueType type, Object value) {
    }

    private record PendingTensor(String name, GgmlType type, long[] shape, long byteSize, TensorSource source) {
    }

    /** ggml's GGML_MAX_NAME is 64 bytes including the terminator: longer names do not load in llama.cpp. */
    public static final int MAX_TENSOR_NAME_BYTES = 63;

    private final Map<String, Entry> metadata = new LinkedHashMap<>();
    private final Map<String, PendingTensor> tensors = new LinkedHashMap<>();

    // ---------------------------------------------------------------- metadata

    /**
     * Puts a value of {@code type} in the representation {@link GgufFile#get} returns (any integral
     * {@link Number} is accepted for the integer types and range-checked; any Number for the float types).
     * Putting a key again replaces its value and keeps its position. So copying a file's metadata is
     * {@code for (String k : f.keys()) w.put(k, f.typeOf(k), f.get(k));}.
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type");
        if (key.isEmpty()) {
            throw new IllegalArgumentException("empty metadata key");
        }
        metadata.put(key, new Entry(type, normalize(key, type, value)));
        return this;
    }

    public GgufWriter putUInt8(String key, int value) {
        return put(key, GgufValueType.UINT8, value);
    }

    public GgufWriter putInt8(String key, int value) {
        return put(key, GgufValueType.INT8, value);
    }

    public GgufWriter putUInt16(String key, int value) {
        return put(key, GgufValueType.UINT16, value);
    }

    public GgufWriter putInt16(String key, int value) {
        return put(key, GgufValueType.INT16, value);
    }

    public GgufWriter putUInt32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, GgufValueType.INT32, value);
    }

    /** Values above {@link Long#MAX_VALUE} are passed as their (negative) bit pattern. */
    public GgufWriter putUInt64(String key, long value) {
        return put(key, GgufValueType.UINT64, value);
    }

    public GgufWriter putInt64(String key, long value) {
        return put(key, GgufValueType.INT64, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putFloat64(String key, double value) {
        return put(key, GgufValueType.FLOAT64, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putArray(String key, GgufArray value) {
        return put(key, GgufValueType.ARRAY, value);
    }

    public GgufWriter putStringArray(String key, String... values) {
        return putArray(key, GgufArray.ofStrings(values.clone()));
    }

    public GgufWriter putInt32Array(String key, int... values) {
        return putArray(key, GgufArray.ofInt32(values.clone()));
    }

    public GgufWriter putFloat32Array(String key, float... values) {
        return putArray(key, GgufArray.ofFloat32(values.clone()));
    }

    /** Sets {@code general.alignment} (a power of two) for the data section. */
    public GgufWriter alignment(int alignment) {
        return putUInt32(GgufFile.ALIGNMENT_KEY, alignment);
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    private static Object normalize(String key, GgufValueType type, Object value) {
        Objects.requireNonNull(value, () -> "value of metadata key '" + key + "'");
        String where = "metadata key '" + key + "'";
        return switch (type) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> {
                if (!(value instanceof Long || value instanceof Integer || value instanceof Short
                        || value instanceof Byte)) {
                    throw new IllegalArgumentException(where + ": " + type + " needs an integral number, not a "
                            + value.getClass().getSimpleName());
                }
                long v = ((Number) value).longValue();
                long min = switch (type) {
                    case INT8 -> Byte.MIN_VALUE;
                    case INT16 -> Short.MIN_VALUE;
                    case INT32 -> Integer.MIN_VALUE;
                    case UINT8, UINT16, UINT32 -> 0;
                    default -> Long.MIN_VALUE;
                };
                long max = switch (type) {
                    case INT8 -> Byte.MAX_VALUE;
                    case UINT8 -> 0xff;
                    case INT16 -> Short.MAX_VALUE;
                    case UINT16 -> 0xffff;
                    case INT32 -> Integer.MAX_VALUE;
                    case UINT32 -> 0xffff_ffffL;
                    default -> Long.MAX_VALUE;
                };
                if (v < min || v > max) {
                    throw new IllegalArgumentException(where + ": " + v + " is outside the " + type + " range ["
                            + min + ", " + max + "]");
                }
                yield v;
            }
            case FLOAT32 -> numberOf(where, type, value).floatValue();
            case FLOAT64 -> numberOf(where, type, value).doubleValue();
            case BOOL -> castTo(Boolean.class, where, type, value);
            case STRING -> castTo(String.class, where, type, value);
            case ARRAY -> checkArray(where, castTo(GgufArray.class, where, type, value), 1);
        };
    }

    private static Number numberOf(String where, GgufValueType type, Object value) {
        return castTo(Number.class, where, type, value);
    }

    private static <T> T castTo(Class<T> cls, String where, GgufValueType type, Object value) {
        if (!cls.isInstance(value)) {
            throw new IllegalArgumentException(where + ": " + type + " needs a " + cls.getSimpleName() + ", not a "
                    + value.getClass().getSimpleName());
        }
        return cls.cast(value);
    }

    /** No null strings or nested arrays, nesting no deeper than the reader accepts. */
    private static GgufArray checkArray(String where, GgufArray array, int depth) {
        if (array.values() instanceof Object[] elements) {
            for (int i = 0; i < elements.length; i++) {
                if (elements[i] == null) {
                    throw new IllegalArgumentException(where + ": array element " + i + " is null");
                }
                if (elements[i] instanceof GgufArray nested) {
                    if (depth >= GgufCursor.MAX_ARRAY_DEPTH) {
                        throw new IllegalArgumentException(where + ": arrays nested deeper than "
                                + GgufCursor.MAX_ARRAY_DEPTH + " levels");
                    }
                    checkArray(where, nested, depth + 1);
                }
            }
        }
        return array;
    }

    // ---------------------------------------------------------------- tensors

    /**
     * Declares a tensor whose {@code source} will stream its bytes during {@link #write}.
     *
     * @param shape dimensions in ggml order (1 to 4; {@code shape[0]} a multiple of the type's block size)
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorSource source) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(name, "name");
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes == 0 || nameBytes > MAX_TENSOR_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + name + "' is " + nameBytes
                    + " bytes, expected 1 to " + MAX_TENSOR_NAME_BYTES);
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        if (shape.length < 1 || shape.length > 4) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + shape.length + " dimensions, expected 1 to 4");
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: "
                        + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' row length " + shape[0]
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        long byteSize = type.byteSize(elements);
        if (byteSize < 0) {
            throw new IllegalArgumentException("tensor '" + name + "' shape " + Arrays.toString(shape) + " overflows");
        }
        tensors.put(name, new PendingTensor(name, type, shape.clone(), byteSize, source));
        return this;
    }

    /** Declares a tensor whose bytes (already encoded as {@code type}) are {@code data}, read during write. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, MemorySegment data) {
        addTensor(name, type, shape, sink -> sink.write(data));
        long expected = tensors.get(name).byteSize();
        if (data.byteSize() != expected) {
            tensors.remove(name);
            throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes of data, "
                    + type + " " + Arrays.toString(shape) + " needs " + expected);
        }
        return this;
    }

    /** Declares a copy of {@code tensor} (e.g. one read from another GGUF file) under its own name. */
    public GgufWriter addTensor(BlockTensor tensor) {
        return addTensor(tensor.name(), tensor.type(), tensor.shape(), tensor.data());
    }

    /** Declares an F32 tensor holding {@code values} (written little-endian whatever the platform). */
    public GgufWriter addF32Tensor(String name, float[] values, long... shape) {
        float[] copy = values.clone();
        addTensor(name, GgmlType.F32, shape, sink -> sink.writeFloats(copy, 0, copy.length));
        long expected = tensors.get(name).byteSize();
        if ((long) copy.length * Float.BYTES != expected) {
            tensors.remove(name);
            throw new IllegalArgumentException("tensor '" + name + "': " + copy.length + " values for shape "
                    + Arrays.toString(shape));
        }
        return this;
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes the file atomically: to a temporary file beside {@code path}, moved over {@code path} only once
     * complete. On any failure (including a tensor source writing the wrong number of bytes) the temporary file
     * is deleted and {@code path} is left untouched.
     */
    public void write(Path path) throws IOException {
        long alignment = alignment();
        Path absolute = path.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                Sink out = new Sink(channel);
                writeHeader(out, alignment);
                out.pad(alignment);
                for (PendingTensor t : tensors.values()) {
                    long start = out.position();
                    t.source().writeTo(out);
                    long written = out.position() - start;
                    if (written != t.byteSize()) {
                        throw new IllegalStateException("tensor '" + t.name() + "': its source wrote " + written
                                + " bytes, expected " + t.byteSize() + " for " + t.type() + " "
                                + Arrays.toString(t.shape()));
                    }
                    out.pad(alignment);
                }
                out.flush();
                channel.force(true);
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private long alignment() {
        Entry e = metadata.get(GgufFile.ALIGNMENT_KEY);
        if (e == null) {
            return GgufFile.DEFAULT_ALIGNMENT;
        }
        if (!(e.value() instanceof Long a) || a <= 0 || Long.bitCount(a) != 1 || a > GgufFile.MAX_ALIGNMENT) {
            throw new IllegalStateException(GgufFile.ALIGNMENT_KEY + " is " + e.value() + " (" + e.type()
                    + "), expected a power of two up to " + GgufFile.MAX_ALIGNMENT);
        }
        return a;
    }

    private void writeHeader(Sink out, long alignment) throws IOException {
        out.writeInt(GgufFile.MAGIC);
        out.writeInt(3);
        out.writeLong(tensors.size());
        out.writeLong(metadata.size());
        for (Map.Entry<String, Entry> kv : metadata.entrySet()) {
            out.writeString(kv.getKey());
            out.writeInt(kv.getValue().type().id());
            writeValue(out, kv.getValue().type(), kv.getValue().value());
        }
        long offset = 0;
        for (PendingTensor t : tensors.values()) {
            out.writeString(t.name());
            out.writeInt(t.shape().length);
            for (long d : t.shape()) {
                out.writeLong(d);
            }
            out.writeInt(t.type().id());
            out.writeLong(offset);
            offset = Math.addExact(offset, t.byteSize());
            offset = Math.addExact(offset, alignment - 1) & -alignment;
        }
    }

    private static void writeValue(Sink out, GgufValueType type, Object value) throws IOException {
        switch (type) {
            case UINT8, INT8 -> out.writeByte((int) (long) (Long) value);
            case UINT16, INT16 -> out.writeShort((short) (long) (Long) value);
            case UINT32, INT32 -> out.writeInt((int) (long) (Long) value);
            case UINT64, INT64 -> out.writeLong((Long) value);
            case FLOAT32 -> out.writeFloat((Float) value);
            case FLOAT64 -> out.writeDouble((Double) value);
            case BOOL -> out.writeByte((Boolean) value ? 1 : 0);
            case STRING -> out.writeString((String) value);
            case ARRAY -> writeArray(out, (GgufArray) value);
        }
    }

    private static void writeArray(Sink out, GgufArray array) throws IOException {
        out.writeInt(array.elementType().id());
        out.writeLong(array.length());
        switch (array.values()) {
            case byte[] a -> out.writeArray(a, ValueLayout.JAVA_BYTE, a.length);
            case short[] a -> out.writeArray(a, GgufCursor.I16, a.length);
            case int[] a -> out.writeArray(a, GgufCursor.I32, a.length);
            case long[] a -> out.writeArray(a, GgufCursor.I64, a.length);
            case float[] a -> out.writeArray(a, GgufCursor.F32, a.length);
            case double[] a -> out.writeArray(a, GgufCursor.F64, a.length);
            case boolean[] a -> {
                for (boolean b : a) {
                    out.writeByte(b ? 1 : 0);
                }
            }
            case String[] a -> {
                for (String s : a) {
                    out.writeString(s);
                }
            }
            case GgufArray[] a -> {
                for (GgufArray nested : a) {
                    writeArray(out, nested);
                }
            }
            default -> throw new IllegalStateException("unreachable: GgufArray validates its values");
        }
    }

    /**
     * Buffered little-endian output to the file being written; what a {@link TensorSource} writes its bytes to.
     * Large native segments (e.g. a tensor mapped from another file) bypass the buffer.
     */
    public static final class Sink {
        private static final int BUFFER_BYTES = 1 << 20;
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES);
        private final MemorySegment bufferSegment = MemorySegment.ofBuffer(buffer);
        private int fill;
        private long flushed;

        private Sink(FileChannel channel) {
            this.channel = channel;
        }

        /** Bytes written so far (file position). */
        public long position() {
            return flushed + fill;
        }

        /**
         * Writes the bytes of {@code data} as they are (a heap segment over a {@code float[]} is in the platform's
         * byte order: prefer {@link #writeFloats}).
         */
        public void write(MemorySegment data) throws IOException {
            long size = data.byteSize();
            if (data.isNative() && size >= BUFFER_BYTES) {
                flush();
                for (long off = 0; off < size; off += 1L << 30) {
                    ByteBuffer chunk = data.asSlice(off, Math.min(1L << 30, size - off)).asByteBuffer();
                    while (chunk.hasRemaining()) {
                        flushed += channel.write(chunk);
                    }
                }
                return;
            }
            for (long off = 0; off < size; ) {
                int n = (int) Math.min(size - off, BUFFER_BYTES - fill);
                MemorySegment.copy(data, off, bufferSegment, fill, n);
                fill += n;
                off += n;
                if (fill == BUFFER_BYTES) {
                    flush();
                }
            }
        }

        public void write(byte[] bytes, int offset, int length) throws IOException {
            write(MemorySegment.ofArray(bytes).asSlice(offset, length));
        }

        /** Writes {@code values[offset .. offset+length)} as little-endian float32. */
        public void writeFloats(float[] values, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, values.length);
            writeArray(values, offset, GgufCursor.F32, length);
        }

        void writeArray(Object array, ValueLayout layout, int length) throws IOException {
            writeArray(array, 0, layout, length);
        }

        private void writeArray(Object array, int offset, ValueLayout layout, int length) throws IOException {
            int elementBytes = (int) layout.byteSize();
            int done = 0;
            while (done < length) {
                int n = Math.min(length - done, (BUFFER_BYTES - fill) / elementBytes);
                if (n == 0) {
                    flush();
                    continue;
                }
                MemorySegment.copy(array, offset + done, bufferSegment, layout, fill, n);
                fill += n * elementBytes;
                done += n;
            }
        }

        private void ensure(int bytes) throws IOException {
            if (BUFFER_BYTES - fill < bytes) {
                flush();
            }
        }

        void writeByte(int v) throws IOException {
            ensure(1);
            bufferSegment.set(ValueLayout.JAVA_BYTE, fill, (byte) v);
            fill += 1;
        }

        void writeShort(short v) throws IOException {
            ensure(2);
            bufferSegment.set(GgufCursor.I16, fill, v);
            fill += 2;
        }

        void writeInt(int v) throws IOException {
            ensure(4);
            bufferSegment.set(GgufCursor.I32, fill, v);
            fill += 4;
        }

        void writeLong(long v) throws IOException {
            ensure(8);
            bufferSegment.set(GgufCursor.I64, fill, v);
            fill += 8;
        }

        void writeFloat(float v) throws IOException {
            ensure(4);
            bufferSegment.set(GgufCursor.F32, fill, v);
            fill += 4;
        }

        void writeDouble(double v) throws IOException {
            ensure(8);
            bufferSegment.set(GgufCursor.F64, fill, v);
            fill += 8;
        }

        void writeString(String s) throws IOException {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            writeLong(bytes.length);
            writeArray(bytes, ValueLayout.JAVA_BYTE, bytes.length);
        }

        /** Zero bytes up to the next multiple of {@code alignment}. */
        void pad(long alignment) throws IOException {
            long padding = -position() & (alignment - 1);
            for (long i = 0; i < padding; i++) {
                writeByte(0);
            }
        }

        void flush() throws IOException {
            buffer.position(0).limit(fill);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            flushed += fill;
            fill = 0;
            buffer.clear();
        }
    }
}
