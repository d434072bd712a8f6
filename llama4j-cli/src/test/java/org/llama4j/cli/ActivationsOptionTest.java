package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llama4j.model.Llama4Model;
import org.llama4j.model.synthetic.QuantRecipe.FileType;
import org.llama4j.testing.TinyModels;

/** {@code --activations exact|q8|auto} and {@code --exact}: parsed strictly, and handed to the model loader. */
class ActivationsOptionTest {
    @TempDir
    Path tmp;

    /** The smallest valid argument list of each command besides the activation flags (nothing is loaded). */
    private static String[] args(String command, String... flags) {
        List<String> args = new ArrayList<>(List.of(command, "--model", "m.gguf"));
        switch (command) {
            case "generate" -> args.addAll(List.of("-p", "hi"));
            case "logits" -> args.addAll(List.of("--tokens", "1", "-o", "out.f32"));
            default -> { }
        }
        args.addAll(List.of(flags));
        return args.toArray(String[]::new);
    }

    @ParameterizedTest
    @ValueSource(strings = {"generate", "chat", "serve", "bench", "logits"})
    void exactAndQ8TogetherIsAUsageError(String command) {
        CliRun r = CliRun.run(args(command, "--exact", "--activations", "q8"));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--exact and --activations q8 contradict each other");
    }

    @ParameterizedTest
    @ValueSource(strings = {"generate", "chat", "serve", "bench", "logits"})
    void unknownModeIsAUsageErrorNamingTheModes(String command) {
        CliRun r = CliRun.run(args(command, "--activations", "int4"));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--activations").contains("unknown activation mode 'int4': use exact, q8 or auto");
    }

    @Test
    void logitsComputeInTheModeAskedFor() throws IOException {
        Path model = TinyModels.gguf("tiny", FileType.Q8_0, 7);
        float[] byDefault = logits(model);
        float[] exact = logits(model, "--exact");
        float[] spelledOut = logits(model, "--activations", "exact", "--exact");
        float[] q8 = logits(model, "--activations", "Q8");
        float[] reference;
        try (Llama4Model m = Llama4Model.load(model)) {
            reference = m.newSession().ingestAll(new int[] {1, 2, 3, 4})[3];
        }
        // the exact path within float rounding of the library's default; the 8-bit one visibly off it
        assertThat(maxAbs(byDefault, reference)).isLessThan(1e-4);
        assertThat(maxAbs(exact, reference)).isLessThan(1e-4);
        assertThat(maxAbs(spelledOut, reference)).isLessThan(1e-4);
        assertThat(maxAbs(q8, reference)).isGreaterThan(1e-3);
    }

    @Test
    void autoIsEightBitOnlyWhereTheIntegerKernelIsFaster() throws IOException {
        Path q4 = TinyModels.gguf("tiny", FileType.Q4_0, 7);
        Path q8 = TinyModels.gguf("tiny", FileType.Q8_0, 7);
        CliRun both = CliRun.run(args("logits", "--exact", "--activations", "auto"));
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("--exact and --activations auto contradict each other");
        for (Path model : List.of(q4, q8)) {
            float[] reference;
            try (Llama4Model m = Llama4Model.load(model)) {
                reference = m.newSession().ingestAll(new int[] {1, 2, 3, 4})[3];
            }
            float[] auto = logits(model, "--activations", "auto");
            if (model == q4) {
                // 4 tokens: a batch small enough for the interleaved Q4_0 integer kernel
                assertThat(maxAbs(auto, reference)).isGreaterThan(1e-3);
            } else {
                assertThat(maxAbs(auto, reference)).as("Q8_0 has no faster integer kernel: exact").isLessThan(1e-4);
            }
        }
    }

    @Test
    void verboseGenerationNamesTheMode() {
        Path model = TinyModels.tinyGguf();
        CliRun q8 = CliRun.run("generate", "--model", model.toString(), "-p", "hi", "-n", "2", "--temperature", "0",
                "--verbose", "--activations", "q8");
        assertThat(q8.code()).as(q8.err()).isZero();
        assertThat(q8.err()).contains("| q8 activations");
        CliRun byDefault = CliRun.run("generate", "--model", model.toString(), "-p", "hi", "-n", "2", "--temperature",
                "0", "--verbose");
        assertThat(byDefault.code()).as(byDefault.err()).isZero();
        assertThat(byDefault.err()).as("generation's default").contains("| auto activations");
        CliRun exact = CliRun.run("generate", "--model", model.toString(), "-p", "hi", "-n", "2", "--temperature",
                "0", "--verbose", "--exact");
        assertThat(exact.code()).as(exact.err()).isZero();
        assertThat(exact.err()).contains("| exact activations");
    }

    /** The last position's logits of the tokens 1,2,3,4 from {@code llama4j logits} with {@code flags}. */
    private float[] logits(Path model, String... flags) throws IOException {
        Path out = Files.createTempFile(tmp, "logits", ".f32");
        List<String> args = new ArrayList<>(List.of("logits", "--model", model.toString(), "--tokens", "1,2,3,4",
                "--positions", "3", "-o", out.toString()));
        args.addAll(List.of(flags));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        byte[] bytes = Files.readAllBytes(out);
        float[] f = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    private static double maxAbs(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
