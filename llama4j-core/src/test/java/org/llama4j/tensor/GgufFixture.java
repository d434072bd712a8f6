package org.llama4j.tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Test access to fixture files: raw tensor data at a known byte offset of a GGUF, and float32 golden .bin files. */
final class GgufFixture {
    private GgufFixture() {
    }

    /** Decodes {@code count} values of type {@code type} stored at byte {@code offset} of {@code gguf}. */
    static float[] decode(Path gguf, long offset, GgmlType type, int count) {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(gguf, StandardOpenOption.READ)) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            float[] out = new float[count];
            BlockCodecs.of(type).decode(file, offset, out, 0, count);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] readFloats(Path bin) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[buf.remaining() / 4];
            buf.asFloatBuffer().get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
