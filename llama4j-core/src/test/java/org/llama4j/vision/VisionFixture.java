package org.llama4j.vision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llama4j.image.RgbImage;
import org.llama4j.testing.Fixtures;

/** Reads {@code llama4-vision-tiny/fixtures.json} and the raw little-endian arrays it references. */
final class VisionFixture {
    final Path dir;
    final JsonNode index;

    private VisionFixture(Path dir) {
        this.dir = dir;
        try {
            this.index = new ObjectMapper().readTree(dir.resolve("fixtures.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static VisionFixture load() {
        return new VisionFixture(Fixtures.require("llama4-vision-tiny"));
    }

    List<JsonNode> images() {
        List<JsonNode> out = new ArrayList<>();
        index.get("images").forEach(out::add);
        return out;
    }

    List<JsonNode> prompts() {
        List<JsonNode> out = new ArrayList<>();
        index.get("prompts").forEach(out::add);
        return out;
    }

    JsonNode image(String name) {
        for (JsonNode n : index.get("images")) {
            if (n.get("name").asText().equals(name)) {
                return n;
            }
        }
        throw new IllegalArgumentException("no fixture image " + name);
    }

    byte[] bytes(JsonNode ref) {
        try {
            return Files.readAllBytes(dir.resolve(ref.get("file").asText()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int[] shape(JsonNode ref) {
        JsonNode s = ref.get("shape");
        int[] out = new int[s.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.get(i).asInt();
        }
        return out;
    }

    float[] floats(JsonNode ref) {
        byte[] b = bytes(ref);
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    /** An {@code [H, W, 3]} uint8 reference as an image. */
    RgbImage rgb(JsonNode ref) {
        int[] s = shape(ref);
        return new RgbImage(s[1], s[0], bytes(ref));
    }

    static float maxAbsDiff(float[] a, int aOff, float[] b, int bOff, int n) {
        float m = 0;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, Math.abs(a[aOff + i] - b[bOff + i]));
        }
        return m;
    }
}
