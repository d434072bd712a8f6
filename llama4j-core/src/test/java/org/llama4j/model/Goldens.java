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
