package org.llama4j.format.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.llama4j.format.ModelFormatException;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;

/**
 * A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header mapping tensor names
 * to {@code {dtype, shape, data_offsets}} (plus an optional {@code __metadata__} string map), then the data
 * section. Tensors are zero-copy views into the mapping, valid until {@link #close()}.
 *
 * <p>{@link #open} validates the whole header before anything is read: header length bounded by
 * {@link #MAX_HEADER_BYTES} and the file size, strict JSON (no duplicate names, no trailing garbage), known
 * dtypes, non-negative dimensions whose product does not overflow, offsets inside the data section that match
 * dtype size × element count, and no two tensors sharing bytes. Gaps between tensors are tolerated.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers beyond this are refused (the reference implementation uses the same bound). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment dataSection;
    private final long dataOffset;
    private final Map<String, String> metadata;
    private final Map<String, TensorInfo> tensors;

    private SafetensorsFile(Path path, Arena arena, MemorySegment dataSection, long dataOffset,
            Map<String, String> metadata, Map<String, TensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.dataSection = dataSection;
        this.dataOffset = dataOffset;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /** Maps and validates {@code path}; every problem with the file is a {@link ModelFormatException}. */
    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (NoSuchFileException e) {
                throw new ModelFormatException(path + ": safetensors file does not exist", e);
            } catch (IOException e) {
                throw new ModelFormatException(path + ": cannot read safetensors file: " + e.getMessage(), e);
            }
            long size = file.byteSize();
            if (size < 8) {
                throw error(path, "file is " + size + " bytes, too short for the 8-byte header length");
            }
            long headerLength = file.get(U64, 0);
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
                throw error(path, "header length " + Long.toUnsignedString(headerLength) + " (bytes 0-7) exceeds the "
                        + MAX_HEADER_BYTES + "-byte limit: not a safetensors file, or corrupt");
            }
            if (headerLength > size - 8) {
                throw error(path, "header length " + headerLength + " (bytes 0-7) runs past the end of the "
                        + size + "-byte file: truncated or not a safetensors file");
            }
            if (headerLength < 2) {
                throw error(path, "header length " + headerLength + " is too short for a JSON object");
            }
            byte[] header = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            long dataOffset = 8 + headerLength;
            MemorySegment data = file.asSlice(dataOffset);
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(path, header, data.byteSize(), metadata);
            return new SafetensorsFile(path, arena, data, dataOffset, Collections.unmodifiableMap(metadata),
                    Collections.unmodifiableMap(tensors));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, byte[] header, long dataSize,
            Map<String, String> metadata) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw error(path, "header is not valid JSON: " + e.getOriginalMessage() + " (at header byte "
                    + e.getLocation().getByteOffset() + ")");
        } catch (IOException e) {
            throw error(path, "cannot parse header: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw error(path, "header must be a JSON object, found " + (root == null ? "nothing" : root.getNodeType()));
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            JsonNode node = e.getValue();
            if (name.equals("__metadata__")) {
                if (!node.isObject()) {
                    throw error(path, "__metadata__ must be an object of strings, found " + node.getNodeType());
                }
                node.properties().forEach(m -> {
                    if (!m.getValue().isTextual()) {
                        throw error(path, "__metadata__ value of \"" + m.getKey() + "\" must be a string, found "
                                + m.getValue().getNodeType());
                    }
                    metadata.put(m.getKey(), m.getValue().textValue());
                });
                continue;
            }
            tensors.put(name, parseTensor(path, name, node, dataSize));
        }
        checkNoOverlap(path, tensors.values());
        return tensors;
    }

    private static TensorInfo parseTensor(Path path, String name, JsonNode node, long dataSize) {
        String where = "tensor \"" + name + "\"";
        if (name.isEmpty()) {
            throw error(path, "tensor with an empty name");
        }
        if (!node.isObject()) {
            throw error(path, where + ": expected an object {dtype, shape, data_offsets}, found " + node.getNodeType());
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw error(path, where + ": missing or non-string \"dtype\"");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromName(dtypeNode.textValue()).orElseThrow(() -> error(path,
                where + ": unknown dtype \"" + dtypeNode.textValue() + "\" (known: "
                        + java.util.Arrays.toString(SafetensorsDtype.values()) + ")"));
        long[] shape = longArray(path, where, node, "shape", -1);
        long elements = 1;
        for (long d : shape) {
            if (d != 0 && elements > Long.MAX_VALUE / d) {
                throw error(path, where + ": shape " + java.util.Arrays.toString(shape) + " has too many elements");
            }
            elements *= d;
        }
        long[] offsets = longArray(path, where, node, "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw error(path, where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataSize) {
            throw error(path, where + ": data_offsets [" + begin + ", " + end + "] run past the data section of "
                    + dataSize + " bytes (file truncated?)");
        }
        if (elements > Long.MAX_VALUE / dtype.byteSize() || elements * dtype.byteSize() != end - begin) {
            throw error(path, where + ": " + dtype + " shape " + java.util.Arrays.toString(shape) + " needs "
                    + (elements > Long.MAX_VALUE / dtype.byteSize() ? "more than 2^63" : elements * dtype.byteSize())
                    + " bytes, but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** Reads {@code node[field]} as an array of non-negative integers (of {@code length} entries unless -1). */
    private static long[] longArray(Path path, String where, JsonNode node, String field, int length) {
        JsonNode a = node.get(field);
        if (a == null || !a.isArray()) {
            throw error(path, where + ": missing or non-array \"" + field + "\"");
        }
        if (length >= 0 && a.size() != length) {
            throw error(path, where + ": \"" + field + "\" must have " + length + " entries, found " + a.size());
        }
        long[] r = new long[a.size()];
        for (int i = 0; i < r.length; i++) {
            JsonNode v = a.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw error(path, where + ": \"" + field + "\"[" + i + "] must be a non-negative integer, found " + v);
            }
            r[i] = v.longValue();
        }
        return r;
    }

    private static void checkNoOverlap(Path path, java.util.Collection<TensorInfo> infos) {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : infos) {
            if (t.byteSize() > 0) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo a = sorted.get(i - 1);
            TensorInfo b = sorted.get(i);
            if (b.begin() < a.end()) {
                throw error(path, "tensors \"" + a.name() + "\" [" + a.begin() + ", " + a.end() + ") and \"" + b.name()
                        + "\" [" + b.begin() + ", " + b.end() + ") overlap in the data section");
            }
        }
    }

    private static ModelFormatException error(Path path, String message) {
        return new ModelFormatException(path + ": " + message);
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} entries (empty when the header has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in header order. */
    public Set<String> tensorNames() {
        return tensors.keySet();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Header entry of {@code name}; a {@link ModelFormatException} when the file has no such tensor. */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw error(path, "no tensor \"" + name + "\" (the file has " + tensors.size() + " tensors)");
        }
        return t;
    }

    /** Absolute file offset of the data section (for diagnostics and cross-checks). */
    public long dataOffset() {
        return dataOffset;
    }

    /** The tensor's bytes, zero-copy, exactly as stored. */
    public MemorySegment rawData(String name) {
        TensorInfo t = info(name);
        return dataSection.asSlice(t.begin(), t.byteSize());
    }

    /**
     * The tensor as a zero-copy {@link BlockTensor} in ggml shape order. Only F32, F16 and BF16 tensors can be
     * viewed on their own; an F8_E4M3 weight needs its scale (see {@code HfModelFolder}), other dtypes fail.
     */
    public Tensor tensor(String name) {
        TensorInfo t = info(name);
        GgmlType type = t.dtype().ggmlType().orElseThrow(() -> error(path, "dtype " + t.dtype()
                + " not supported for tensor \"" + name + "\"" + (t.dtype() == SafetensorsDtype.F8_E4M3
                        ? " on its own: an F8_E4M3 weight is read together with its \"" + name
                                + "_scale\" tensor (compressed-tensors FP8)"
                        : " (llama4j reads weights in F32, F16, BF16 and F8_E4M3)")));
        return new BlockTensor(name, type, t.ggmlShape(), dataSection.asSlice(t.begin(), t.byteSize()));
    }

    /** Unmaps the file; tensors obtained from it must not be used afterwards. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
