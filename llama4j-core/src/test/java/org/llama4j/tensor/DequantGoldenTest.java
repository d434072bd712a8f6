package org.llama4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.llama4j.testing.Fixtures;

/**
 * Decoders against ggml's own {@code to_float}: every sample of the fixtures' {@code dequant_samples} (the first
 * values of a tensor, dequantized by llama.cpp's libggml-base) must match bit for bit.
 */
class DequantGoldenTest {
    private static final List<String> SAMPLE_SETS = List.of(
            "llama4-tiny/tiny-k/golden/dequant_samples", "llama4-tiny/tiny-scout/golden/dequant_samples");

    private record Sample(Path gguf, Path bin, String tensor, GgmlType type, long offset, int count) {
    }

    private static List<Sample> samples() throws IOException {
        List<Sample> out = new ArrayList<>();
        for (String set : SAMPLE_SETS) {
            Path dir = Fixtures.require(set);
            JsonNode index = new ObjectMapper().readTree(dir.resolve("index.json").toFile());
            Path modelDir = dir.getParent().getParent();
            for (JsonNode s : index.get("samples")) {
                GgmlType type = GgmlType.fromId(s.get("ggml_type_id").asInt())
                        .orElseThrow(() -> new AssertionError("unknown ggml type in " + s));
                assertEquals(type.name().toLowerCase(), s.get("ggml_type").asText().toLowerCase());
                out.add(new Sample(modelDir.resolve(s.get("gguf").asText()), dir.resolve(s.get("file").asText()),
                        s.get("tensor").asText(), type, s.get("tensor_data_offset_in_file").asLong(),
                        s.get("n_values").asInt()));
            }
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> decodesBitExactlyLikeGgml() throws IOException {
        return samples().stream().map(s -> DynamicTest.dynamicTest(
                s.gguf().getFileName() + " " + s.tensor() + " (" + s.type() + ")", () -> {
                    float[] expected = GgufFixture.readFloats(s.bin());
                    assertEquals(s.count(), expected.length, "golden length");
                    float[] actual = GgufFixture.decode(s.gguf(), s.offset(), s.type(), s.count());
                    for (int i = 0; i < expected.length; i++) {
                        if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                            fail(s.type() + " value " + i + " (block " + i / s.type().blockSize() + "): expected "
                                    + expected[i] + " but decoded " + actual[i]);
                        }
                    }
                }));
    }

    @TestFactory
    Stream<DynamicTest> everyQuantizedTypeHasAGolden() throws IOException {
        Set<GgmlType> covered = EnumSet.noneOf(GgmlType.class);
        samples().forEach(s -> covered.add(s.type()));
        return Stream.of(GgmlType.values())
                .filter(t -> t.supported() && t != GgmlType.F32 && t != GgmlType.BF16)
                .map(t -> DynamicTest.dynamicTest(t.name(), () -> assertTrue(covered.contains(t),
                        t + " has no dequantization golden")));
    }

}
