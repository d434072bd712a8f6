package org.llama4j.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.llama4j.testing.Fixtures;

/**
 * Our quantizers against llama.cpp's on the same real weights: the fixtures hold the unquantized (bf16-exact,
 * stored as F16/BF16) tensor and llama.cpp's {@code llama_model_quantize} output for it; both are decoded with our
 * ggml-exact decoders and compared with the original. Ours must not be clearly worse than llama.cpp's.
 *
 * <p>Offsets are absolute byte offsets of the tensor data, as listed by the fixtures' {@code dequant_samples}
 * index where the tensor appears there; the Q4_K and Q6_K token embeddings and tiny-scout's BF16 one are not in
 * that index and were read from the GGUF headers (a wrong offset or type would show up as a huge llama.cpp error,
 * which the test also checks).
 */
class LlamaCppQuantComparisonTest {
    /** Allowed ratio of our relative rmse to llama.cpp's. */
    private static final double MAX_RATIO_TO_LLAMA_CPP = 1.3;

    private record Case(GgmlType type, String sourceGguf, GgmlType sourceType, long sourceOffset, String quantGguf,
            long quantOffset, int count) {
    }

    private static final String TINY_K = "llama4-tiny/tiny-k/";
    private static final String SCOUT = "llama4-tiny/tiny-scout/";
    /** token_embd.weight of tiny-k: [256, 1024], same data offset in every quantized tiny-k file. */
    private static final long TINY_K_EMBD_F16 = 562912;
    private static final long TINY_K_EMBD_QUANT = 253664;
    private static final int TINY_K_EMBD_COUNT = 256 * 1024;

    private static Case tinyK(GgmlType type, String quantFile) {
        return new Case(type, TINY_K + "tiny-k.F16.gguf", GgmlType.F16, TINY_K_EMBD_F16, TINY_K + quantFile,
                TINY_K_EMBD_QUANT, TINY_K_EMBD_COUNT);
    }

    /** tiny-scout's token_embd.weight, [64, 8192]: BF16 at 347104, Q8_0 / Q4_0 at 904480. */
    private static Case scout(GgmlType type, String quantFile) {
        return new Case(type, SCOUT + "tiny-scout.BF16.gguf", GgmlType.BF16, 347104, SCOUT + quantFile, 904480,
                64 * 8192);
    }

    private static final Case[] CASES = {
        tinyK(GgmlType.Q2_K, "tiny-k.Q2_K.gguf"),
        tinyK(GgmlType.Q3_K, "tiny-k.Q3_K_M.gguf"),
        tinyK(GgmlType.Q4_K, "tiny-k.Q4_K_M.gguf"),
        tinyK(GgmlType.Q5_K, "tiny-k.Q5_K_M.gguf"),
        tinyK(GgmlType.Q6_K, "tiny-k.Q6_K.gguf"),
        tinyK(GgmlType.IQ4_NL, "tiny-k.IQ4_NL.gguf"),
        tinyK(GgmlType.IQ4_XS, "tiny-k.IQ4_XS.gguf"),
        tinyK(GgmlType.Q4_1, "tiny-k.Q4_1.gguf"),
        tinyK(GgmlType.Q5_0, "tiny-k.Q5_0.gguf"),
        tinyK(GgmlType.Q5_1, "tiny-k.Q5_1.gguf"),
        scout(GgmlType.Q8_0, "tiny-scout.Q8_0.gguf"),
        scout(GgmlType.Q4_0, "tiny-scout.Q4_0.gguf"),
    };

    @TestFactory
    Stream<DynamicTest> errorWithinLlamaCppRange() {
        Path root = Fixtures.require("llama4-tiny");
        return Stream.of(CASES).map(c -> DynamicTest.dynamicTest(c.type().name(), () -> {
            Path fixtures = root.getParent();
            float[] original = GgufFixture.decode(fixtures.resolve(c.sourceGguf()), c.sourceOffset(), c.sourceType(),
                    c.count());
            float[] theirs = GgufFixture.decode(fixtures.resolve(c.quantGguf()), c.quantOffset(), c.type(), c.count());
            float[] ours = QuantErrors.roundTrip(original, c.type());
            double theirError = QuantErrors.relativeRmse(original, theirs);
            double ourError = QuantErrors.relativeRmse(original, ours);
            System.out.printf("%-7s relative rmse: llama4j %.5f, llama.cpp %.5f (ratio %.3f)%n", c.type(), ourError,
                    theirError, ourError / theirError);
            assertTrue(theirError < 0.5, "llama.cpp's " + c.type() + " tensor does not match the source tensor ("
                    + theirError + "): wrong offset or type in this test");
            assertTrue(ourError <= MAX_RATIO_TO_LLAMA_CPP * theirError, c.type() + ": our relative rmse " + ourError
                    + " vs llama.cpp " + theirError);
        }));
    }
}
