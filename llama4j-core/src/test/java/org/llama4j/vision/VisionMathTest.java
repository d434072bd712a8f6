package org.llama4j.vision;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The vectorised GELU against its scalar double-precision definition. */
class VisionMathTest {
    @Test
    void vectorGeluFollowsTheScalarDefinition() {
        // -12 .. 12 in steps of 1/256, with an odd length so the scalar tail runs too
        float[] x = new float[24 * 256 + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = -12f + i / 256f;
        }
        float[] y = x.clone();
        VisionMath.geluInPlace(y);
        for (int i = 0; i < x.length; i++) {
            double ref = VisionMath.gelu(x[i]);
            // relative in the bulk, absolute where GELU underflows towards 0 for large negative inputs
            assertThat((double) y[i]).as("gelu(%s)", x[i])
                    .isCloseTo(ref, org.assertj.core.data.Offset.offset(2e-6 * Math.abs(ref) + 1e-7));
        }
        assertThat(VisionMath.gelu(1f)).isCloseTo(0.8413447f, org.assertj.core.data.Offset.offset(1e-6f));
    }
}
