package org.llama4j.format.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.format.ModelFormatException;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.Fp8E4M3;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    @Test
    void writesAndReadsEveryKindOfTensor() throws IOException {
        float[] matrix = {1, -2, 3.5f, 4, 0.25f, -6}; // [2, 3]: 2 rows of 3
        float[] cube = new float[2 * 3 * 4];
        for (int i = 0; i < cube.length; i++) {
            cube[i] = i - 7.5f;
        }
        byte[] fp8 = {Fp8E4M3.encode(1), Fp8E4M3.encode(-448), Fp8E4M3.encode(0.5f), 0};
        Path file = SafetensorsWriter.create(tmp.resolve("m.safetensors"))
                .metadata("format", "pt")
                .addFloats("matrix.f32", SafetensorsDtype.F32, new long[] {2, 3}, matrix)
                .addFloats("matrix.bf16", SafetensorsDtype.BF16, new long[] {2, 3}, matrix)
                .addFloats("matrix.f16", SafetensorsDtype.F16, new long[] {2, 3}, matrix)
                .addFloats("cube", SafetensorsDtype.BF16, new long[] {2, 3, 4}, cube)
                .addFloats("scalar", SafetensorsDtype.F32, new long[] {}, new float[] {42})
                .addFloats("empty", SafetensorsDtype.F32, new long[] {0, 4}, new float[0])
                .add("fp8", SafetensorsDtype.F8_E4M3, new long[] {2, 2}, MemorySegment.ofArray(fp8))
                .add("ids", SafetensorsDtype.I64, new long[] {2}, MemorySegment.ofArray(new long[] {5, 9}))
                .write();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(List.of("matrix.f32", "matrix.bf16", "matrix.f16", "cube", "scalar", "empty", "fp8", "ids"),
                    List.copyOf(f.tensorNames()));
            assertEquals(0, f.dataOffset() % 8, "header padded so the data section is 8-byte aligned");

            for (String name : List.of("matrix.f32", "matrix.bf16", "matrix.f16")) {
                Tensor t = f.tensor(name);
                assertArrayEquals(new long[] {3, 2}, t.shape(), "ggml order is reversed");
                assertArrayEquals(matrix, t.toFloatArray(), name); // all values are exact in bf16/f16
                assertEquals(1 * 4f + -2 * 5 + 3.5f * 6, t.dotRow(0, new float[] {4, 5, 6}, 0), name);
            }
            assertEquals(GgmlType.BF16, ((BlockTensor) f.tensor("matrix.bf16")).type());
            TensorInfo info = f.info("cube");
            assertArrayEquals(new long[] {2, 3, 4}, info.shape());
            assertArrayEquals(new long[] {4, 3, 2}, info.ggmlShape());
            assertEquals(SafetensorsDtype.BF16, info.dtype());
            assertEquals(24, info.elementCount());
            assertEquals(48, info.byteSize());
            assertArrayEquals(cube, f.tensor("cube").toFloatArray());
            assertEquals(6, f.tensor("cube").rowCount());

            assertArrayEquals(new long[] {1}, f.tensor("scalar").shape());
            assertEquals(42f, f.tensor("scalar").toFloatArray()[0]);
            assertEquals(0, f.tensor("empty").elementCount());
            assertArrayEquals(fp8, f.rawData("fp8").toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new long[] {5, 9}, f.rawData("ids").toArray(ValueLayout.JAVA_LONG));

            var e = assertThrows(ModelFormatException.class, () -> f.tensor("ids"));
            assertTrue(e.getMessage().contains("dtype I64 not supported for tensor \"ids\""), e.getMessage());
            e = assertThrows(ModelFormatException.class, () -> f.tensor("fp8"));
            assertTrue(e.getMessage().contains("fp8_scale"), e.getMessage());
            e = assertThrows(ModelFormatException.class, () -> f.info("nope"));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("no tensor \"nope\""));
        }
    }

    @Test
    void writerRejectsMismatchedSizesAndLeavesNoFileOnFailure() throws IOException {
        Path target = tmp.resolve("x.safetensors");
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.create(target)
                .add("a", SafetensorsDtype.F32, new long[] {3}, MemorySegment.ofArray(new byte[8])));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.create(target)
                .addFloats("a", SafetensorsDtype.F32, new long[] {1}, new float[1])
                .addFloats("a", SafetensorsDtype.F32, new long[] {1}, new float[1]));
        var lying = SafetensorsWriter.create(target)
                .add("a", SafetensorsDtype.F32, new long[] {4}, out -> out.write(new byte[12]));
        assertThrows(IllegalStateException.class, lying::write);
        var failing = SafetensorsWriter.create(target)
                .add("a", SafetensorsDtype.F32, new long[] {4}, out -> {
                    throw new IOException("disk full");
                });
        assertThrows(IOException.class, failing::write);
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "no target and no temporary file after failed writes");
        }
    }

    /** A file with the given header text (its length field as given) followed by {@code dataBytes} bytes. */
    private Path raw(String name, long headerLength, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(h);
        Path p = tmp.resolve(name + ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private Path raw(String name, String header, int dataBytes) throws IOException {
        return raw(name, header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    static Stream<Arguments> corruptHeaders() {
        String ok = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        return Stream.of(
                Arguments.of("bad-json", "{\"a\": {\"dtype\": ", 0, "header is not valid JSON"),
                Arguments.of("not-object", "[1, 2]", 0, "header must be a JSON object"),
                Arguments.of("trailing", "{" + ok + "} xx", 8, "not valid JSON"),
                Arguments.of("duplicate", "{" + ok + "," + ok + "}", 8, "Duplicate field 'a'"),
                Arguments.of("past-end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
                        "run past the data section of 8 bytes"),
                Arguments.of("size-mismatch", "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", 8,
                        "BF16 shape [2, 3] needs 12 bytes, but data_offsets [0, 8] hold 8"),
                Arguments.of("overlap", "{" + ok + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                        12, "overlap"),
                Arguments.of("unknown-dtype", "{\"a\":{\"dtype\":\"Q9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                        "unknown dtype \"Q9\""),
                Arguments.of("negative-dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
                        "\"shape\"[0] must be a non-negative integer"),
                Arguments.of("fractional-dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8,
                        "must be a non-negative integer"),
                Arguments.of("overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],"
                        + "\"data_offsets\":[0,8]}}", 8, "too many elements"),
                Arguments.of("huge-dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],"
                        + "\"data_offsets\":[0,8]}}", 8, "must be a non-negative integer"),
                Arguments.of("reversed", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
                        "end before they begin"),
                Arguments.of("one-offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
                        "must have 2 entries"),
                Arguments.of("no-dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing or non-string \"dtype\""),
                Arguments.of("no-shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "non-array \"shape\""),
                Arguments.of("entry-not-object", "{\"a\":7}", 0, "expected an object"),
                Arguments.of("metadata-number", "{\"__metadata__\":{\"format\":1}}", 0,
                        "__metadata__ value of \"format\" must be a string"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptHeaders")
    void corruptHeaderIsAClearError(String name, String header, int dataBytes, String expected) throws IOException {
        Path p = raw(name, header, dataBytes);
        var e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), "names the file: " + e.getMessage());
    }

    @Test
    void badHeaderLengthIsAClearError() throws IOException {
        Path tiny = tmp.resolve("tiny.safetensors");
        Files.write(tiny, new byte[5]);
        assertMessage(tiny, "too short for the 8-byte header length");
        assertMessage(raw("absurd", 1L << 40, "{}", 0), "exceeds the 100000000-byte limit");
        assertMessage(raw("negative", -1L, "{}", 0), "18446744073709551615");
        assertMessage(raw("past-eof", 1000, "{}", 0), "runs past the end of the 10-byte file");
        assertMessage(raw("zero", 0, "", 0), "too short for a JSON object");
    }

    @Test
    void truncatedFileIsAClearError() throws IOException {
        Path p = SafetensorsWriter.create(tmp.resolve("t.safetensors"))
                .addFloats("a", SafetensorsDtype.F32, new long[] {4}, new float[4])
                .addFloats("b", SafetensorsDtype.F32, new long[] {4}, new float[4])
                .write();
        byte[] all = Files.readAllBytes(p);
        Files.write(p, java.util.Arrays.copyOf(all, all.length - 3));
        assertMessage(p, "tensor \"b\": data_offsets [16, 32] run past the data section of 29 bytes");
    }

    @Test
    void missingFileIsAClearError() {
        assertMessage(tmp.resolve("absent.safetensors"), "does not exist");
    }

    @Test
    void gapsAndZeroSizeTensorsAreAccepted() throws IOException {
        Path p = raw("gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", 12);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(0f, f.tensor("a").toFloatArray()[0]);
            assertEquals(0, f.tensor("z").elementCount());
            assertFalse(f.metadata().containsKey("format"));
        }
    }

    private static void assertMessage(Path p, String expected) {
        var e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }
}
