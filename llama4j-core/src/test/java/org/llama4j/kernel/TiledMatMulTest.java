package org.llama4j.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The exact batched product of {@link Kernels#matmul} (register tiles of {@link TiledMatMul}) against a
 * double-precision reference, including every tail (rows, tokens, columns), with and without a bias.
 */
class TiledMatMulTest {

    @ParameterizedTest
    @CsvSource({
            // in, out, n: vector-width multiples, odd tails in every dimension, one row, one token, many panels
            "32, 128, 17",
            "588, 32, 16",
            "37, 11, 7",
            "5, 3, 2",
            "64, 9, 1",
            "1408, 70, 10",
            // every token tail of the 6-vector tiles and every row tail of the 4-row tiles
            "48, 5, 7",
            "48, 6, 8",
            "48, 7, 9",
            "48, 13, 11",
            // several column chunks of 1024 plus a scalar tail, and more than one panel (60 rows each at 2069)
            "2069, 130, 13"})
    void matchesTheReference(int in, int out, int n) {
        Random rnd = new Random(in * 31L + out * 7L + n);
        float[] wv = new float[in * out];
        for (int i = 0; i < wv.length; i++) {
            wv[i] = (float) rnd.nextGaussian();
        }
        float[] x = new float[n * in];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] bias = new float[out];
        for (int i = 0; i < out; i++) {
            bias[i] = (float) rnd.nextGaussian();
        }
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.BF16}) {
            Tensor w = BlockTensor.quantize("w", type, wv, in, out);
            float[] decoded = w.toFloatArray();
            for (float[] b : new float[][] {null, bias}) {
                float[] y = new float[n * out];
                Kernels.matmul(w, b, x, n, y, KernelMode.EXACT);
                for (int t = 0; t < n; t++) {
                    for (int r = 0; r < out; r++) {
                        double ref = b == null ? 0 : b[r];
                        double mag = 0;
                        for (int k = 0; k < in; k++) {
                            ref += (double) decoded[r * in + k] * x[t * in + k];
                            mag += Math.abs((double) decoded[r * in + k] * x[t * in + k]);
                        }
                        assertThat((double) y[t * out + r]).as("%s t=%d r=%d", type, t, r)
                                .isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-6 * mag + 1e-6));
                    }
                }
            }
        }
    }

    @Test
    void wrongSizesAreRefused() {
        Tensor w = BlockTensor.ofFloats("w", new float[12], 4, 3);
        assertThatThrownBy(() -> Kernels.matmul(w, null, new float[7], 2, new float[6], KernelMode.EXACT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("8 inputs");
        assertThatThrownBy(() -> Kernels.matmul(w, new float[2], new float[8], 2, new float[6], KernelMode.EXACT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bias of 2");
    }
}
