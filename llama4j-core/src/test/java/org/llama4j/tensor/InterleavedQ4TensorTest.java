package org.llama4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The row-interleaved Q4_0 kernel against the scalar integer reference of the 8-bit-activation path
 * ({@link Q8Activations#referenceDotRow}, the same integers summed in order), and its exact operations against the
 * original tensor.
 */
class InterleavedQ4TensorTest {

    private static float[] gaussian(Random rnd, int n, double sigma) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return v;
    }

    @Test
    void vectorFp16ConversionEqualsFloat16ToFloatForEveryBitPattern() {
        int lanes = SimdDot.F.length();
        MemorySegment all = MemorySegment.ofArray(new short[65536 + lanes]);
        for (int h = 0; h < 65536; h++) {
            all.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, h, (short) h);
        }
        for (int h = 0; h < 65536; h += lanes) {
            float[] got = InterleavedQ4Tensor.fp16ToFloat(all, 2L * h).toArray();
            for (int i = 0; i < lanes; i++) {
                float expected = Float.float16ToFloat((short) (h + i));
                if (Float.isNaN(expected)) {
                    // NaN payloads differ between Java's float16ToFloat and its intrinsic; a NaN is a NaN
                    assertThat(got[i]).as("fp16 0x%04x", h + i).isNaN();
                    continue;
                }
                assertThat(Float.floatToRawIntBits(got[i])).as("fp16 0x%04x: %s vs %s", h + i, got[i], expected)
                        .isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }

    /**
     * Rows × columns × vectors, with the first row of the product: groups of 16 rows, one or many blocks, a batch,
     * a row range that starts past the first group, and weight magnitudes whose fp16 scales are normal or
     * subnormal.
     */
    @ParameterizedTest
    @CsvSource({"Q4_0, 16, 32, 1, 0, 0.1", "Q4_0, 48, 64, 3, 16, 0.1", "Q4_0, 32, 2048, 2, 0, 0.02",
            "Q4_0, 64, 256, 1, 32, 0.00002", "Q4_K, 16, 256, 1, 0, 0.1", "Q4_K, 48, 512, 3, 16, 0.1",
            "Q4_K, 32, 2048, 2, 0, 0.02", "Q4_K, 64, 256, 1, 32, 0.00002"})
    void dotRowsMatchTheIntegerReference(GgmlType type, int rows, int cols, int batch, int firstRow, double sigma) {
        Random rnd = new Random(rows * 31L + cols);
        float[] values = gaussian(rnd, rows * cols, sigma);
        for (int i = 0; i < values.length; i += 7) {
            values[i] += (float) (3 * sigma); // skewed groups: Q4_K mins that are not zero
        }
        BlockTensor w = BlockTensor.quantize("w", type, values, cols, rows);
        float[] xs = gaussian(rnd, cols * batch, 1.0);
        xs[3] = 0f;
        java.util.Arrays.fill(xs, 0, 32, 0f); // an all-zero activation block (scale 0)
        xs[cols * batch - 1] = 1e4f; // one large value: its block's other values round to small codes
        Q8Activations x8 = Q8Activations.quantize(xs, 0, cols, batch);
        try (Arena arena = Arena.ofConfined()) {
            InterleavedQ4Tensor packed = InterleavedQ4Tensor.interleave(w, arena);
            int n = rows - firstRow;
            float[] out = new float[n * batch + 5];
            packed.dotRows(firstRow, n, InterleavedQ4Tensor.pair(x8), out, 2, n);
            for (int t = 0; t < batch; t++) {
                for (int r = 0; r < n; r++) {
                    double[] magnitude = new double[1];
                    float expected = x8.referenceDotRow(w, firstRow + r, t, magnitude);
                    assertThat((double) out[2 + t * n + r]).as("%s row %d vector %d", type, firstRow + r, t)
                            .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5 * magnitude[0] + 1e-30));
                }
            }
            assertThat(out[0]).isZero();
            assertThat(out[out.length - 1]).as("nothing written past the last row").isZero();
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_K"})
    void exactOperationsAreTheOriginals(GgmlType type) {
        Random rnd = new Random(3);
        BlockTensor w = BlockTensor.quantize("blk.0.attn_q.weight", type, gaussian(rnd, 32 * 256, 0.1), 256, 32);
        float[] x = gaussian(rnd, 256, 1.0);
        try (Arena arena = Arena.ofConfined()) {
            InterleavedQ4Tensor packed = InterleavedQ4Tensor.interleave(w, arena);
            assertThat(packed.name()).isEqualTo(w.name());
            assertThat(packed.typeName()).isEqualTo(type.name());
            assertThat(packed.shape()).containsExactly(256, 32);
            assertThat(packed.byteSize()).isEqualTo(w.byteSize());
            assertThat(packed.original()).isSameAs(w);
            for (int r = 0; r < 32; r++) {
                assertThat(packed.dotRow(r, x, 0)).isEqualTo(w.dotRow(r, x, 0));
            }
            assertThat(packed.toFloatArray()).containsExactly(w.toFloatArray());
            assertThat(packed.isPacked()).as("exact operations never build the repacked copy").isFalse();
            packed.dotRows(0, 32, InterleavedQ4Tensor.pair(Q8Activations.quantize(x, 0, 256, 1)), new float[32], 0, 32);
            assertThat(packed.isPacked()).as("the first integer product builds it").isTrue();
        }
    }

    @Test
    void refusesWhatItCannotInterleave() {
        Random rnd = new Random(4);
        BlockTensor q8 = BlockTensor.quantize("a", GgmlType.Q8_0, gaussian(rnd, 32 * 16, 0.1), 32, 16);
        BlockTensor ragged = BlockTensor.quantize("b", GgmlType.Q4_0, gaussian(rnd, 32 * 20, 0.1), 32, 20);
        assertThat(InterleavedQ4Tensor.supports(q8)).isFalse();
        assertThat(InterleavedQ4Tensor.supports(ragged)).isFalse();
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> InterleavedQ4Tensor.interleave(ragged, arena))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tensor b")
                    .hasMessageContaining("Q4_0 or Q4_K with a multiple of 16 rows").hasMessageContaining("20 rows");
            BlockTensor w = BlockTensor.quantize("c", GgmlType.Q4_0, gaussian(rnd, 32 * 32, 0.1), 32, 32);
            InterleavedQ4Tensor packed = InterleavedQ4Tensor.interleave(w, arena);
            var x = InterleavedQ4Tensor.pair(Q8Activations.quantize(new float[32], 0, 32, 1));
            assertThatThrownBy(() -> packed.dotRows(8, 16, x, new float[32], 0, 16))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tensor c")
                    .hasMessageContaining("whole groups of 16");
            var wrongLength = InterleavedQ4Tensor.pair(Q8Activations.quantize(new float[64], 0, 64, 1));
            assertThatThrownBy(() -> packed.dotRows(0, 16, wrongLength, new float[32], 0, 16))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("activations have 64");
        }
    }
}
