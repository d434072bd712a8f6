package org.llama4j.tensor;

/** Reconstruction error measures shared by the quantizer tests. */
final class QuantErrors {
    private QuantErrors() {
    }

    /** Root-mean-square of {@code approx - exact}, relative to the root-mean-square of {@code exact}. */
    static double relativeRmse(float[] exact, float[] approx) {
        double err = 0;
        double energy = 0;
        for (int i = 0; i < exact.length; i++) {
            double e = (double) approx[i] - exact[i];
            err += e * e;
            energy += (double) exact[i] * exact[i];
        }
        return Math.sqrt(err / energy);
    }

    static float[] roundTrip(float[] values, GgmlType type) {
        float[] out = new float[values.length];
        BlockCodecs.of(type).decode(BlockCodecs.quantize(values, type), 0, out, 0, values.length);
        return out;
    }
}
