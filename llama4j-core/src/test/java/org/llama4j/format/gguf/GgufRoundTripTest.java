package org.llama4j.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.ModelFormatException;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;

/** Write with {@link GgufWriter}, read with {@link GgufFile}: identical metadata and tensor bytes. */
class GgufRoundTripTest {
    @TempDir
    Path dir;

    /** One value of every scalar type at its edges, arrays of every element type, nested and empty arrays. */
    static GgufWriter everyValueType() {
        GgufWriter w = new GgufWriter();
        w.putUInt8("u8", 255).putInt8("i8", -128).putUInt16("u16", 65535).putInt16("i16", -32768)
                .putUInt32("u32", 0xffff_ffffL).putInt32("i32", Integer.MIN_VALUE)
                .putUInt64("u64", -1L).putInt64("i64", Long.MIN_VALUE)
                .putFloat32("f32", -1.5e-7f).putFloat32("f32.nan", Float.NaN).putFloat64("f64", Math.PI)
                .putBool("yes", true).putBool("no", false)
                .putString("str", "héllo ✓ 𝄞 \u0000 end").putString("str.empty", "");
        w.putArray("a.u8", new GgufArray(GgufValueType.UINT8, new byte[] {0, 1, (byte) 255}));
        w.putArray("a.i8", new GgufArray(GgufValueType.INT8, new byte[] {-128, 127}));
        w.putArray("a.u16", new GgufArray(GgufValueType.UINT16, new short[] {(short) 65535, 7}));
        w.putArray("a.i16", new GgufArray(GgufValueType.INT16, new short[] {-32768, 32767}));
        w.putArray("a.u32", new GgufArray(GgufValueType.UINT32, new int[] {-1, 5}));
        w.putInt32Array("a.i32", Integer.MIN_VALUE, 0, Integer.MAX_VALUE);
        w.putArray("a.u64", new GgufArray(GgufValueType.UINT64, new long[] {-1L, 3}));
        w.putArray("a.i64", new GgufArray(GgufValueType.INT64, new long[] {Long.MIN_VALUE, Long.MAX_VALUE}));
        w.putFloat32Array("a.f32", 1f, -0f, Float.POSITIVE_INFINITY, Float.MIN_VALUE);
        w.putArray("a.f64", new GgufArray(GgufValueType.FLOAT64, new double[] {1e300, -2.5}));
        w.putArray("a.bool", new GgufArray(GgufValueType.BOOL, new boolean[] {true, false, true}));
        w.putStringArray("a.str", "a", "", "ünïcödé", "<|begin_of_text|>");
        w.putStringArray("a.empty");
        w.putArray("a.nested", GgufArray.ofArrays(
                GgufArray.ofStrings("x", "y"),
                GgufArray.ofInt32(),
                GgufArray.ofArrays(GgufArray.ofFloat32(1f, 2f), GgufArray.ofArrays())));
        return w;
    }

    @Test
    void everyMetadataTypeRoundTrips() throws IOException {
        Path file = dir.resolve("meta.gguf");
        everyValueType().write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.keys()).containsExactly("u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32",
                    "f32.nan", "f64", "yes", "no", "str", "str.empty", "a.u8", "a.i8", "a.u16", "a.i16", "a.u32",
                    "a.i32", "a.u64", "a.i64", "a.f32", "a.f64", "a.bool", "a.str", "a.empty", "a.nested");
            assertThat(f.typeOf("u8")).isEqualTo(GgufValueType.UINT8);
            assertThat(f.typeOf("a.nested")).isEqualTo(GgufValueType.ARRAY);
            assertThat(f.get("u8")).isEqualTo(255L);
            assertThat(f.get("i8")).isEqualTo(-128L);
            assertThat(f.get("u16")).isEqualTo(65535L);
            assertThat(f.get("i16")).isEqualTo(-32768L);
            assertThat(f.get("u32")).isEqualTo(0xffff_ffffL);
            assertThat(f.get("i32")).isEqualTo((long) Integer.MIN_VALUE);
            assertThat(f.get("u64")).isEqualTo(-1L);
            assertThat(f.get("i64")).isEqualTo(Long.MIN_VALUE);
            assertThat(f.get("f32")).isEqualTo(-1.5e-7f);
            assertThat((Float) f.get("f32.nan")).isNaN();
            assertThat(f.get("f64")).isEqualTo(Math.PI);
            assertThat(f.getBoolean("yes")).isTrue();
            assertThat(f.getBoolean("no")).isFalse();
            assertThat(f.getString("str")).isEqualTo("héllo ✓ 𝄞 \u0000 end");
            assertThat(f.getString("str.empty")).isEmpty();
            GgufWriter expected = everyValueType();
            for (String key : f.keys()) {
                if (f.typeOf(key) == GgufValueType.ARRAY) {
                    assertThat(f.getArray(key)).as(key).isEqualTo(reread(expected, key));
                }
            }
            assertThat(f.getArray("a.u8").getLong(2)).isEqualTo(255);
            assertThat(f.getArray("a.u32").getLong(0)).isEqualTo(0xffff_ffffL);
            GgufArray nested = f.getArray("a.nested");
            assertThat(nested.length()).isEqualTo(3);
            assertThat(((GgufArray) nested.get(2)).get(0)).isEqualTo(GgufArray.ofFloat32(1f, 2f));
            assertThat(f.tensorInfos()).isEmpty();
            assertThat(f.describe()).contains("a.nested (ARRAY of ARRAY)").contains("str (STRING)");
        }
    }

    /** The array a writer holds for {@code key}, as a fresh file of that single entry reads it back. */
    private GgufArray reread(GgufWriter source, String key) throws IOException {
        Path file = dir.resolve("single-" + key + ".gguf");
        Path full = dir.resolve("full.gguf");
        source.write(full);
        try (GgufFile f = GgufFile.open(full)) {
            new GgufWriter().put(key, GgufValueType.ARRAY, f.get(key)).write(file);
        }
        try (GgufFile f = GgufFile.open(file)) {
            return f.getArray(key);
        }
    }

    @Test
    void typedGettersConvertRangeCheckAndNameTheKey() throws IOException {
        Path file = dir.resolve("getters.gguf");
        everyValueType().putUInt8("small", 7).putFloat64("pi", Math.PI).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.getInt("small")).isEqualTo(7);
            assertThat(f.getLong("u32")).isEqualTo(0xffff_ffffL);
            assertThat(f.getInt("i16")).isEqualTo(-32768);
            assertThat(f.getFloat("pi")).isEqualTo((float) Math.PI);
            assertThat(f.getIntArray("a.u8")).containsExactly(0, 1, 255);
            assertThat(f.getIntArray("a.u16")).containsExactly(65535, 7);
            assertThat(f.getLongArray("a.u32")).containsExactly(0xffff_ffffL, 5);
            assertThat(f.getFloatArray("a.f64")).containsExactly(Float.POSITIVE_INFINITY, -2.5f);
            assertThat(f.getStringArray("a.str")).containsExactly("a", "", "ünïcödé", "<|begin_of_text|>");
            assertThat(f.getIntOr("absent", 42)).isEqualTo(42);
            assertThat(f.getStringOr("absent", "d")).isEqualTo("d");
            assertThat(f.getBooleanOr("yes", false)).isTrue();
            assertThat(f.getFloatOr("absent", 0.5f)).isEqualTo(0.5f);
            assertThat(f.findString("str")).contains("héllo ✓ 𝄞 \u0000 end");
            assertThat(f.find("absent")).isEmpty();

            assertThatThrownBy(() -> f.getInt("u32")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("'u32'").hasMessageContaining("int32");
            assertThatThrownBy(() -> f.getLong("u64")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("18446744073709551615");
            assertThatThrownBy(() -> f.getString("small")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("'small' has type UINT8, expected STRING");
            assertThatThrownBy(() -> f.getIntOr("str", 1)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("'str' has type STRING, expected an integer type");
            assertThatThrownBy(() -> f.getFloat("yes")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("expected FLOAT32 or FLOAT64");
            assertThatThrownBy(() -> f.getStringArray("a.i32")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("'a.i32' has type ARRAY of INT32, expected ARRAY of STRING");
            assertThatThrownBy(() -> f.getIntArray("a.u32")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("element 0 is 4294967295");
            assertThatThrownBy(() -> f.getIntArray("str")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("'str' has type STRING, expected ARRAY");
            assertThatThrownBy(() -> f.getFloatArray("a.nested")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("ARRAY of ARRAY");
            assertThatThrownBy(() -> f.getBoolean("missing.key")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("metadata key 'missing.key' is absent");
        }
    }

    @Test
    void tensorsRoundTripByteForByteWithCustomAlignment() throws IOException {
        Random random = new Random(42);
        float[] f32 = new float[64 * 3];
        for (int i = 0; i < f32.length; i++) {
            f32[i] = (float) random.nextGaussian();
        }
        byte[] bf16 = randomBytes(random, 2 * 32 * 2 * 2);
        byte[] q80 = randomBytes(random, 34 * 4 * 5);
        byte[] iq2 = randomBytes(random, 66);
        Path file = dir.resolve("tensors.gguf");
        GgufWriter w = new GgufWriter().putString("general.architecture", "test").alignment(64);
        w.addF32Tensor("f32", f32, 64, 3);
        w.addTensor("bf16.4d", GgmlType.BF16, new long[] {32, 2, 1, 2}, MemorySegment.ofArray(bf16));
        // streamed in pieces, as a generator of large models does
        w.addTensor("q8_0", GgmlType.Q8_0, new long[] {128, 5}, sink -> {
            for (int row = 0; row < 5; row++) {
                sink.write(q80, row * 136, 136);
            }
        });
        w.addTensor("iq2", GgmlType.IQ2_XXS, new long[] {256}, MemorySegment.ofArray(iq2));
        w.addTensor("empty", GgmlType.F32, new long[] {0}, MemorySegment.ofArray(new byte[0]));
        w.write(file);

        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.alignment()).isEqualTo(64);
            assertThat(f.dataOffset() % 64).isZero();
            assertThat(f.tensorInfos()).extracting(GgufTensorInfo::name)
                    .containsExactly("f32", "bf16.4d", "q8_0", "iq2", "empty");
            for (GgufTensorInfo t : f.tensorInfos()) {
                assertThat(t.offset() % 64).as(t.name()).isZero();
            }
            GgufTensorInfo q = f.tensorInfo("q8_0").orElseThrow();
            assertThat(q.shape()).containsExactly(128, 5);
            assertThat(q.byteSize()).isEqualTo(q80.length);
            assertThat(q.elementCount()).isEqualTo(640);

            Tensor t = f.tensor("f32");
            assertThat(t.shape()).containsExactly(64, 3);
            assertThat(t.toFloatArray()).containsExactly(f32);
            assertThat(bytesOf(f.tensorData("bf16.4d"))).containsExactly(bf16);
            assertThat(f.tensor("bf16.4d").shape()).containsExactly(32, 2, 1, 2);
            assertThat(bytesOf(((BlockTensor) f.tensor("q8_0")).data())).containsExactly(q80);
            assertThat(bytesOf(f.tensorData("iq2"))).containsExactly(iq2);
            assertThat(f.tensor("empty").byteSize()).isZero();
            // known but undecodable types are listed, and fail by name only when used
            assertThatThrownBy(() -> f.tensor("iq2")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("'iq2' has type IQ2_XXS");
            assertThat(f.findTensor("nope")).isEmpty();
            assertThatThrownBy(() -> f.tensor("nope")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("tensor 'nope' is absent");
        }
    }

    /** Copying every entry and tensor of a file through a new writer reproduces it byte for byte. */
    @Test
    void copyingAFileReproducesItExactly() throws IOException {
        Random random = new Random(7);
        Path original = dir.resolve("original.gguf");
        GgufWriter w = everyValueType();
        w.addTensor("a", GgmlType.Q4_0, new long[] {64, 3}, MemorySegment.ofArray(randomBytes(random, 18 * 2 * 3)));
        w.addTensor("b", GgmlType.F16, new long[] {7}, MemorySegment.ofArray(randomBytes(random, 14)));
        w.addTensor("c", GgmlType.IQ1_S, new long[] {256}, MemorySegment.ofArray(randomBytes(random, 50)));
        w.write(original);

        Path copy = dir.resolve("copy.gguf");
        try (GgufFile f = GgufFile.open(original)) {
            GgufWriter c = new GgufWriter();
            for (String key : f.keys()) {
                c.put(key, f.typeOf(key), f.get(key));
            }
            for (GgufTensorInfo t : f.tensorInfos()) {
                c.addTensor(t.name(), t.type(), t.shape(), f.tensorData(t.name()));
            }
            c.write(copy);
        }
        assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(original));
    }

    /** Data larger than the writer's buffer, from a native segment (written directly) and from the heap. */
    @Test
    void largeTensorsStreamThroughBothSinkPaths() throws IOException {
        long rows = 3 * (1 << 20) / 34 + 5; // over 3 MiB: more than the writer's 1 MiB buffer
        int bytes = (int) rows * 34;
        byte[] heap = randomBytes(new Random(3), bytes);
        Path file = dir.resolve("large.gguf");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nativeData = arena.allocate(bytes);
            MemorySegment.copy(heap, 0, nativeData, ValueLayout.JAVA_BYTE, 0, bytes);
            new GgufWriter()
                    .addTensor("native", GgmlType.Q8_0, new long[] {32, rows}, nativeData)
                    .addTensor("heap", GgmlType.Q8_0, new long[] {32, rows}, MemorySegment.ofArray(heap))
                    .write(file);
        }
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(bytesOf(f.tensorData("native"))).isEqualTo(heap);
            assertThat(bytesOf(f.tensorData("heap"))).isEqualTo(heap);
        }
    }

    @Test
    void version2FilesOpen() throws IOException {
        Path file = dir.resolve("v2.gguf");
        new GgufWriter().putString("k", "v").addF32Tensor("t", new float[] {1, 2}, 2).write(file);
        byte[] bytes = Files.readAllBytes(file);
        bytes[4] = 2;
        Files.write(file, bytes);
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.version()).isEqualTo(2);
            assertThat(f.tensor("t").toFloatArray()).containsExactly(1f, 2f);
        }
    }

    @Test
    void failedWritesLeaveNothingBehind() throws IOException {
        Path file = dir.resolve("model.gguf");
        GgufWriter failing = new GgufWriter().putString("k", "v")
                .addTensor("t", GgmlType.F32, new long[] {4}, sink -> {
                    sink.writeFloats(new float[] {1, 2}, 0, 2);
                    throw new IOException("generator failed");
                });
        assertThatThrownBy(() -> failing.write(file)).isInstanceOf(IOException.class).hasMessage("generator failed");
        assertThat(listDir()).isEmpty();

        GgufWriter shortSource = new GgufWriter()
                .addTensor("t", GgmlType.F32, new long[] {4}, sink -> sink.writeFloats(new float[] {1}, 0, 1));
        assertThatThrownBy(() -> shortSource.write(file)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'t': its source wrote 4 bytes, expected 16");
        assertThat(listDir()).isEmpty();

        // an existing file is replaced only by a complete one
        new GgufWriter().putString("k", "old").write(file);
        assertThatThrownBy(() -> failing.write(file)).isInstanceOf(IOException.class);
        assertThat(listDir()).containsExactly("model.gguf");
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.getString("k")).isEqualTo("old");
        }
    }

    @Test
    void writerRejectsInvalidInputWithSpecificErrors() {
        GgufWriter w = new GgufWriter();
        assertThatThrownBy(() -> w.putUInt8("k", 256)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'k': 256 is outside the UINT8 range [0, 255]");
        assertThatThrownBy(() -> w.putInt16("k", 40000)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.putUInt32("k", -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.put("k", GgufValueType.STRING, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("STRING needs a String, not a Integer");
        assertThatThrownBy(() -> w.putStringArray("k", "a", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("element 1 is null");
        assertThatThrownBy(() -> new GgufArray(GgufValueType.INT32, new long[1]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.addTensor("q", GgmlType.Q8_0, new long[] {16}, MemorySegment.ofArray(new byte[0])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a multiple of the Q8_0 block size 32");
        assertThatThrownBy(() -> w.addTensor("q", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, MemorySegment.ofArray(new byte[4])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("5 dimensions");
        assertThatThrownBy(() -> w.addTensor("q", GgmlType.F32, new long[] {4}, MemorySegment.ofArray(new byte[15])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("15 bytes of data");
        assertThatThrownBy(() -> w.addTensor("x".repeat(64), GgmlType.F32, new long[] {1}, MemorySegment.ofArray(new byte[4])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected 1 to 63");
        assertThatThrownBy(() -> w.addTensor("big", GgmlType.F32, new long[] {1L << 40, 1L << 40}, s -> { }))
                .isInstanceOf(ArithmeticException.class);
        w.addF32Tensor("t", new float[] {1}, 1);
        assertThatThrownBy(() -> w.addF32Tensor("t", new float[] {1}, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate tensor name 't'");
        assertThat(w.alignment(48).has(GgufFile.ALIGNMENT_KEY)).isTrue();
        assertThatThrownBy(() -> w.write(dir.resolve("x.gguf"))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("expected a power of two");
    }

    private List<String> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static byte[] bytesOf(MemorySegment segment) {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }
}
