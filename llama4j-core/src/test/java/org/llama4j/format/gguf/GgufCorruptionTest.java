package org.llama4j.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.TreeSet;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.ModelFormatException;
import org.llama4j.tensor.GgmlType;

/**
 * A corpus of damaged GGUF files, generated with {@link GgufWriter} and then patched: each must fail to open with
 * a {@link ModelFormatException} saying which file and what is wrong, and never with an OOM, a hang or an index
 * error (every count in these files claims far more than the heap could hold).
 */
class GgufCorruptionTest {
    private static final long HUGE = 1L << 62;

    @TempDir
    Path dir;
    private byte[] valid;
    private Path file;

    /**
     * Two metadata entries of each kind the tests patch, two tensors (the last one ending exactly at the end of
     * the file, so that every truncation loses data).
     */
    @BeforeEach
    void writeValidFile() throws IOException {
        Path original = dir.resolve("valid.gguf");
        new GgufWriter()
                .putString("general.architecture", "llama4")
                .putUInt32("general.alignment", 32)
                .putUInt32("k.a", 1).putUInt32("k.b", 2)
                .putBool("flag", true)
                .putStringArray("tokens", "a", "bc", "def")
                .putArray("nested", GgufArray.ofArrays(GgufArray.ofInt32(1, 2), GgufArray.ofStrings("x")))
                .addTensor("t.a", GgmlType.Q8_0, new long[] {32, 1}, MemorySegment.ofArray(new byte[34]))
                .addF32Tensor("t.b", new float[32], 8, 4)
                .write(original);
        valid = Files.readAllBytes(original);
        file = dir.resolve("damaged.gguf");
        try (GgufFile f = GgufFile.open(original)) {
            GgufTensorInfo last = f.tensorInfo("t.b").orElseThrow();
            assertThat(f.dataOffset() + last.offset() + last.byteSize()).isEqualTo(valid.length);
        }
    }

    @Test
    void truncationAtEveryByteIsReportedAsTruncation() throws IOException {
        TreeSet<String> distinctMessages = new TreeSet<>();
        for (int length = 0; length < valid.length; length++) {
            Files.write(file, Arrays.copyOf(valid, length));
            try (GgufFile f = GgufFile.open(file)) {
                fail("a file truncated to " + length + " of " + valid.length + " bytes opened: " + f);
            } catch (ModelFormatException e) {
                assertThat(e.getMessage()).as("truncated to %d bytes", length)
                        .startsWith(file.toString()).contains("truncated");
                distinctMessages.add(e.getMessage().replaceAll("\\d+", "N"));
            }
        }
        // every section reports its own truncation: header, keys, each value kind, tensor infos, data
        assertThat(distinctMessages.size()).isGreaterThan(10);
    }

    @Test
    void badMagic() throws IOException {
        byte[] b = valid.clone();
        b[3] = 'X';
        expectError(b).hasMessageContaining("not a GGUF file").hasMessageContaining("\"GGUX\"").hasMessageContaining("byte 0");
        Arrays.fill(b, 0, 4, (byte) 0);
        expectError(b).hasMessageContaining("\"\\x00\\x00\\x00\\x00\"");
    }

    @Test
    void unsupportedVersions() throws IOException {
        expectError(patchInt(4, 1)).hasMessageContaining("GGUF version 1 is not supported");
        expectError(patchInt(4, 4)).hasMessageContaining("unsupported GGUF version 4, expected 2 or 3");
        expectError(patchInt(4, -1)).hasMessageContaining("unsupported GGUF version 4294967295");
        expectError(patchInt(4, Integer.reverseBytes(3))).hasMessageContaining("big-endian GGUF");
    }

    @Test
    void absurdCounts() throws IOException {
        expectError(patchLong(8, HUGE)).hasMessageContaining("tensor count is 4611686018427387904");
        expectError(patchLong(8, -1)).hasMessageContaining("tensor count is 18446744073709551615");
        expectError(patchLong(16, HUGE)).hasMessageContaining("metadata entry count is 4611686018427387904");
        expectError(patchLong(16, Integer.MAX_VALUE)).hasMessageContaining("metadata entry count is 2147483647");
    }

    @Test
    void absurdStringAndArrayLengths() throws IOException {
        int key = find("general.architecture") - 8;
        expectError(patchLong(key, HUGE)).hasMessageContaining("key length is 4611686018427387904 bytes")
                .hasMessageContaining("metadata entry #0").hasMessageContaining("byte " + key);
        int value = find("llama4") - 8;
        expectError(patchLong(value, HUGE)).hasMessageContaining("value length is 4611686018427387904 bytes")
                .hasMessageContaining("'general.architecture'");
        int tokensCount = find("tokens") + "tokens".length() + 4 + 4;
        expectError(patchLong(tokensCount, HUGE)).hasMessageContaining("length (STRING elements) is 4611686018427387904")
                .hasMessageContaining("'tokens'");
        expectError(patchLong(tokensCount, Integer.MAX_VALUE - 1)).hasMessageContaining("'tokens'");
        int firstToken = tokensCount + 8;
        expectError(patchLong(firstToken, HUGE)).hasMessageContaining("value element length is 4611686018427387904");
        int nestedInner = find("nested") + "nested".length() + 4 + 4 + 8 + 4;
        expectError(patchLong(nestedInner, HUGE)).hasMessageContaining("value element 0 length (INT32 elements)");
        int tensorName = find("t.a") - 8;
        expectError(patchLong(tensorName, HUGE)).hasMessageContaining("tensor name length is 4611686018427387904");
    }

    @Test
    void unknownValueTypes() throws IOException {
        int kaType = find("k.a") + 3;
        expectError(patchInt(kaType, 13)).hasMessageContaining("unknown value type id 13").hasMessageContaining("'k.a'");
        int tokensElementType = find("tokens") + "tokens".length() + 4;
        expectError(patchInt(tokensElementType, 99)).hasMessageContaining("unknown value element type id 99");
        int flag = find("flag") + 4 + 4;
        expectError(patch(flag, (byte) 2)).hasMessageContaining("a bool must be 0 or 1, found 2");
    }

    @Test
    void unknownTensorTypes() throws IOException {
        int type = tensorField("t.a", TensorField.TYPE);
        expectError(patchInt(type, 4)).hasMessageContaining("tensor 't.a' has unknown ggml type id 4")
                .hasMessageContaining("byte " + type);
        expectError(patchInt(type, 1000)).hasMessageContaining("unknown ggml type id 1000");
    }

    @Test
    void badTensorOffsets() throws IOException {
        int offsetB = tensorField("t.b", TensorField.OFFSET);
        expectError(patchLong(offsetB, 1L << 40)).hasMessageContaining("tensor 't.b' data [1099511627776, ")
                .hasMessageContaining("extends past its end");
        expectError(patchLong(offsetB, Long.MAX_VALUE & -32L)).hasMessageContaining("extends past its end");
        expectError(patchLong(offsetB, -32)).hasMessageContaining("not a multiple of the alignment");
        expectError(patchLong(offsetB, 33)).hasMessageContaining("data offset 33 is not a multiple of the alignment 32");
        expectError(patchLong(offsetB, 32)).hasMessageContaining("tensors 't.a' [0, 34) and 't.b' [32, 160) overlap");
        expectError(patchLong(offsetB, 0)).hasMessageContaining("overlap");
    }

    /** An empty tensor placed between two overlapping ones must not hide their overlap. */
    @Test
    void overlapBehindAnEmptyTensor() throws IOException {
        Path source = dir.resolve("three.gguf");
        new GgufWriter()
                .addF32Tensor("big", new float[32], 32)
                .addF32Tensor("empty", new float[0], 0)
                .addF32Tensor("inner", new float[8], 8)
                .write(source);
        valid = Files.readAllBytes(source);
        byte[] b = patchLong(patchLong(valid, find("empty") + 5 + 4 + 8 + 4, 0), find("inner") + 5 + 4 + 8 + 4, 32);
        expectError(b).hasMessageContaining("tensors 'big' [0, 128) and 'inner' [32, 64) overlap");
    }

    @Test
    void badShapes() throws IOException {
        int nDims = tensorField("t.b", TensorField.N_DIMS);
        expectError(patchInt(nDims, 5)).hasMessageContaining("tensor 't.b' has n_dims 5, expected 1 to 4");
        expectError(patchInt(nDims, 0)).hasMessageContaining("n_dims 0");
        expectError(patchInt(nDims, -1)).hasMessageContaining("n_dims 4294967295");
        int dims = nDims + 4;
        byte[] overflow = patchLong(patchLong(valid, dims, 1L << 40), dims + 8, 1L << 40);
        expectError(overflow).hasMessageContaining("shape [1099511627776, 1099511627776] has more elements than a long");
        int aDims = tensorField("t.a", TensorField.N_DIMS) + 4;
        // 32 x 2.8e17 values fit a long, their 34-byte blocks do not
        expectError(patchLong(aDims + 8, 280_000_000_000_000_000L)).hasMessageContaining("of Q8_0 needs more bytes than a long");
        expectError(patchLong(aDims, 16)).hasMessageContaining("row length 16 is not a multiple of the Q8_0 block size 32");
        expectError(patchLong(aDims, -1)).hasMessageContaining("dimension 0 is 18446744073709551615");
        // a plausible but too large shape is caught as data past the end of the file
        expectError(patchLong(dims + 8, 1L << 20)).hasMessageContaining("extends past its end");
    }

    @Test
    void duplicates() throws IOException {
        byte[] b = valid.clone();
        b[find("k.b") + 2] = 'a';
        expectError(b).hasMessageContaining("duplicate metadata key 'k.a'");
        b = valid.clone();
        b[find("t.b") + 2] = 'a';
        expectError(b).hasMessageContaining("duplicate tensor name 't.a'");
    }

    @Test
    void badAlignment() throws IOException {
        int typeAt = find("general.alignment") + "general.alignment".length();
        int valueAt = typeAt + 4;
        expectError(patchInt(valueAt, 0)).hasMessageContaining("general.alignment is 0, expected a power of two");
        expectError(patchInt(valueAt, 3)).hasMessageContaining("general.alignment is 3");
        expectError(patchInt(valueAt, -1)).hasMessageContaining("general.alignment is 4294967295");
        expectError(patchInt(typeAt, GgufValueType.FLOAT32.id())).hasMessageContaining("has type FLOAT32, expected UINT32");
        // another valid alignment: the recorded offsets (multiples of 32) no longer satisfy it
        expectError(patchInt(valueAt, 128)).hasMessageContaining("data offset 64 is not a multiple of the alignment 128");
    }

    @Test
    void emptyNames() throws IOException {
        expectError(patchLong(find("k.a") - 8, 0)).hasMessageContaining("empty metadata key");
        expectError(patchLong(find("t.a") - 8, 0)).hasMessageContaining("empty tensor name");
    }

    @Test
    void arraysNestedTooDeeplyAreRejectedWithoutExhaustingTheStack() throws IOException {
        int depth = 100_000;
        ByteBuffer b = ByteBuffer.allocate(24 + 8 + 4 + 4 + depth * 12 + 12).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(GgufFile.MAGIC).putInt(3).putLong(0).putLong(1);
        b.putLong(4).put("deep".getBytes(StandardCharsets.US_ASCII)).putInt(GgufValueType.ARRAY.id());
        for (int i = 0; i < depth; i++) {
            b.putInt(GgufValueType.ARRAY.id()).putLong(1);
        }
        b.putInt(GgufValueType.INT32.id()).putLong(0);
        expectError(Arrays.copyOf(b.array(), b.position())).hasMessageContaining("arrays nested deeper than 8 levels");
    }

    /** Random byte damage anywhere in the header and tables: a clean open or a ModelFormatException, nothing else. */
    @Test
    void randomDamageNeverEscapesAsAnotherException() throws IOException {
        Random random = new Random(1234);
        int headerEnd = tensorField("t.b", TensorField.OFFSET) + 8;
        int rejected = 0;
        for (int trial = 0; trial < 500; trial++) {
            byte[] b = valid.clone();
            int flips = 1 + random.nextInt(3);
            for (int i = 0; i < flips; i++) {
                int at = random.nextInt(headerEnd);
                b[at] = random.nextInt(4) == 0 ? (byte) 0xff : (byte) (b[at] ^ (1 << random.nextInt(8)));
            }
            Files.write(file, b);
            try (GgufFile f = GgufFile.open(file)) {
                f.tensorInfos().forEach(t -> f.tensorData(t.name()));
            } catch (ModelFormatException e) {
                assertThat(e.getMessage()).startsWith(file.toString());
                rejected++;
            }
        }
        assertThat(rejected).isGreaterThan(300);
    }

    // ---------------------------------------------------------------- helpers

    private enum TensorField { N_DIMS, TYPE, OFFSET }

    /** Byte position of a field of the tensor info of {@code name} (2 dimensions in the valid file). */
    private int tensorField(String name, TensorField field) {
        int nDims = find(name) + name.length();
        return switch (field) {
            case N_DIMS -> nDims;
            case TYPE -> nDims + 4 + 2 * 8;
            case OFFSET -> nDims + 4 + 2 * 8 + 4;
        };
    }

    /** Position of the (length-prefixed, unique) string {@code s} in the valid file. */
    private int find(String s) {
        byte[] needle = ByteBuffer.allocate(8 + s.length()).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(s.length()).put(s.getBytes(StandardCharsets.UTF_8)).array();
        int found = -1;
        for (int i = 0; i + needle.length <= valid.length; i++) {
            if (Arrays.equals(valid, i, i + needle.length, needle, 0, needle.length)) {
                assertThat(found).as("'%s' occurs once", s).isEqualTo(-1);
                found = i + 8;
            }
        }
        assertThat(found).as("'%s' in the valid file", s).isNotNegative();
        return found;
    }

    private byte[] patch(int at, byte value) {
        byte[] b = valid.clone();
        b[at] = value;
        return b;
    }

    private byte[] patchInt(int at, int value) {
        byte[] b = valid.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
        return b;
    }

    private byte[] patchLong(int at, long value) {
        return patchLong(valid, at, value);
    }

    private static byte[] patchLong(byte[] source, int at, long value) {
        byte[] b = source.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, value);
        return b;
    }

    private AbstractThrowableAssert<?, ? extends Throwable> expectError(byte[] content) throws IOException {
        Files.write(file, content);
        return assertThatThrownBy(() -> {
            try (GgufFile f = GgufFile.open(file)) {
                fail("opened: " + f);
            }
        }).isInstanceOf(ModelFormatException.class).hasMessageStartingWith(file.toString());
    }
}
