package org.llama4j.bench.llamacpp;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test helpers: the llama.cpp instance (skip when not installed, fail under CI=true) and golden file readers. */
final class LlamaCppTesting {
    private LlamaCppTesting() {
    }

    /** The loaded llama.cpp; skips the calling test when it is not installed, except under CI=true, where it fails. */
    static LlamaCpp requireLlamaCpp() {
        if (LlamaCpp.findLibraryDir().isEmpty()) {
            String msg = "llama.cpp is not installed (looked in " + LlamaCpp.candidateDirs() + "); "
                    + LlamaCpp.INSTALL_HINT;
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI=true but " + msg);
            }
            assumeTrue(false, "skipping: " + msg);
        }
        return LlamaCpp.load();
    }

    /** A raw little-endian float32 file. */
    static float[] readFloats(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(out);
        return out;
    }

    static int argmax(float[] values, int offset, int length) {
        int best = 0;
        for (int i = 1; i < length; i++) {
            if (values[offset + i] > values[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
