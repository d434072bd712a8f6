package org.llama4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading the fixture goldens: index.json and raw little-endian .bin files. */
final class Goldens {
    private Goldens() {
    }

    static JsonNode index(Path modelDir) {
        try {
            return new ObjectMapper().readTree(modelDir.resolve("golden/index.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] floats(Path modelDir, String file) {
        ByteBuffer b = bytes(modelDir, file);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    static int[] ints(Path modelDir, String file) {
        ByteBuffer b = bytes(modelDir, file);
        int[] out = new int[b.remaining() / 4];
        b.asIntBuffer().get(out);
        return out;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static ByteBuffer bytes(Path modelDir, String file) {
        try {
            return ByteBuffer.wrap(Files.readAllBytes(modelDir.resolve("golden").resolve(file)))
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** max |a[i] - b[bOff + i]|. */
    static double maxAbs(float[] a, float[] b, int bOff) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[bOff + i]));
        }
        return m;
    }

    /** max |a[i] - b[i]|. */
    static double maxAbs(float[] a, float[] b) {
        return maxAbs(a, b, 0);
    }

    /** max |a[i] - b[i]| against a double-precision reference. */
    static double maxAbs(float[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /**
     * How far logits are from reference logits, with the statistics of the fixtures' {@code index.json}:
     * {@code max_abs}, {@code rel_to_max} ({@code max_abs / max|reference|}), {@code rms_diff} over every logit,
     * and {@code argmax_agree} (fraction of positions with the same top token).
     */
    record LogitsDiff(double maxAbs, double relToMax, double rms, double argmaxAgree) {
        /** {@code logits[positions[i]]} against row {@code i} of {@code reference} ({@code vocab} values a row). */
        static LogitsDiff of(float[][] logits, int[] positions, float[] reference, int vocab) {
            if (reference.length != positions.length * vocab) {
                throw new IllegalArgumentException("reference holds " + reference.length + " logits, expected "
                        + positions.length + " positions x " + vocab);
            }
            double maxAbs = 0;
            double maxRef = 0;
            double squares = 0;
            int agree = 0;
            for (int i = 0; i < positions.length; i++) {
                float[] row = logits[positions[i]];
                int best = 0;
                for (int v = 0; v < vocab; v++) {
                    float r = reference[i * vocab + v];
                    double d = row[v] - r;
                    maxAbs = Math.max(maxAbs, Math.abs(d));
                    maxRef = Math.max(maxRef, Math.abs(r));
                    squares += d * d;
                    if (r > reference[i * vocab + best]) {
                        best = v;
                    }
                }
                if (argmax(row) == best) {
                    agree++;
                }
            }
            return new LogitsDiff(maxAbs, maxAbs / maxRef, Math.sqrt(squares / ((double) positions.length * vocab)),
                    (double) agree / positions.length);
        }

        /** A statistics object of {@code index.json}. */
        static LogitsDiff of(JsonNode stats) {
            return new LogitsDiff(stats.get("max_abs").asDouble(), stats.get("rel_to_max").asDouble(),
                    stats.get("rms_diff").asDouble(), stats.get("argmax_agree").asDouble());
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "max abs %.4f (rel %.4f), rms %.4f, argmax agree %.3f",
                    maxAbs, relToMax, rms, argmaxAgree);
        }
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
