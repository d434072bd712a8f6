package org.llama4j.format.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.llama4j.tensor.BlockCodecs;

/**
 * Writes one safetensors file. Tensors are declared first (name, dtype, shape and a source of exactly the
 * right number of bytes), then {@link #write()} emits the header and streams each tensor's data in declaration
 * order, so nothing larger than a tensor source's own buffer is held in memory. The file appears atomically:
 * it is written to a temporary sibling and moved into place only when complete.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Produces a tensor's bytes; it must write exactly the declared size (checked). */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(OutputStream out) throws IOException;
    }

    private record Entry(String name, SafetensorsDtype dtype, long[] shape, long byteSize, TensorData data) {
    }

    private final Path target;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    private SafetensorsWriter(Path target) {
        this.target = target;
    }

    /** A writer for {@code target}; nothing is written before {@link #write()}. */
    public static SafetensorsWriter create(Path target) {
        return new SafetensorsWriter(Objects.requireNonNull(target, "target"));
    }

    /** Adds a {@code __metadata__} entry (e.g. {@code format = pt}). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /**
     * Declares a tensor whose bytes {@code data} produces when the file is written.
     *
     * @param shape safetensors (row-major) order
     */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, TensorData data) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        if (name.isEmpty() || name.equals("__metadata__")) {
            throw new IllegalArgumentException("invalid tensor name \"" + name + "\"");
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("tensor \"" + name + "\" added twice");
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension in " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        entries.add(new Entry(name, dtype, shape.clone(), Math.multiplyExact(elements, dtype.byteSize()), data));
        return this;
    }

    /** Declares a tensor holding a copy of {@code bytes} (which may be a slice of a mapped file). */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, MemorySegment bytes) {
        add(name, dtype, shape, out -> copy(bytes, out));
        Entry e = entries.getLast();
        if (e.byteSize != bytes.byteSize()) {
            entries.removeLast();
            names.remove(name);
            throw new IllegalArgumentException("tensor " + name + ": " + dtype + " shape " + Arrays.toString(shape)
                    + " needs " + e.byteSize + " bytes, got " + bytes.byteSize());
        }
        return this;
    }

    /** Declares a tensor of {@code values} encoded as F32, F16 or BF16 (round to nearest even). */
    public SafetensorsWriter addFloats(String name, SafetensorsDtype dtype, long[] shape, float[] values) {
        float[] copy = values.clone();
        add(name, dtype, shape, switch (dtype) {
            case F32 -> out -> {
                ByteBuffer b = ByteBuffer.allocate(copy.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(copy);
                out.write(b.array());
            };
            case F16, BF16 -> out -> {
                ByteBuffer b = ByteBuffer.allocate(copy.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : copy) {
                    b.putShort(dtype == SafetensorsDtype.BF16 ? BlockCodecs.floatToBf16(f) : Float.floatToFloat16(f));
                }
                out.write(b.array());
            };
            default -> throw new IllegalArgumentException("addFloats encodes F32, F16 or BF16, not " + dtype);
        });
        if (entries.getLast().byteSize != (long) copy.length * dtype.byteSize()) {
            entries.removeLast();
            names.remove(name);
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " does not hold "
                    + copy.length + " values");
        }
        return this;
    }

    /** Writes the file (header, then every tensor's data) atomically; returns its path. */
    public Path write() throws IOException {
        byte[] header = header();
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        try {
            try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
                file.write(len.array());
                file.write(header);
                for (Entry e : entries) {
                    CountingStream counted = new CountingStream(file);
                    e.data.writeTo(counted);
                    if (counted.count != e.byteSize) {
                        throw new IllegalStateException("tensor " + e.name + ": its source wrote " + counted.count
                                + " bytes, declared " + e.byteSize);
                    }
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes so the data section starts aligned. */
    private byte[] header() throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = root.putObject(e.name);
            t.put("dtype", e.dtype.name());
            var shape = t.putArray("shape");
            for (long d : e.shape) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + e.byteSize);
            offset += e.byteSize;
        }
        byte[] json = JSON.writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void copy(MemorySegment src, OutputStream out) throws IOException {
        byte[] buf = new byte[(int) Math.min(1 << 20, Math.max(1, src.byteSize()))];
        for (long pos = 0; pos < src.byteSize(); pos += buf.length) {
            int n = (int) Math.min(buf.length, src.byteSize() - pos);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, pos, buf, 0, n);
            out.write(buf, 0, n);
        }
    }

    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() {
            // the file stream is closed by write(), not by a tensor source
        }
    }
}
