package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.gguf.GgufFile;
import picocli.CommandLine;

class CreateModelCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void writesAPresetModel() throws Exception {
        Path file = dir.resolve("tiny.gguf");
        assertThat(run("create-model", "--config", "tiny", "--type", "q8_0", "--seed", "3", "--vocab-size", "512",
                "--threads", "2", "--output", file.toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("tiny: 4 layers, hidden 256").contains("wrote " + file);
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.getString("general.architecture")).isEqualTo("llama4");
            assertThat(f.getLong("general.file_type")).isEqualTo(7);
            assertThat(f.getStringArray("tokenizer.ggml.tokens")).hasSize(512);
        }
    }

    @Test
    void badArgumentsGiveOneClearLine() {
        Path file = dir.resolve("x.gguf");
        assertThat(run("create-model", "--config", "nonsense", "--output", file.toString())).isNotZero();
        assertThat(err.toString()).contains("--config 'nonsense' is neither a preset").contains("scout-bench");
        err.getBuffer().setLength(0);
        assertThat(run("create-model", "--config", "tiny", "--type", "q4_k_xl", "--output", file.toString())).isNotZero();
        assertThat(err.toString()).contains("unknown model type 'q4_k_xl'");
        assertThat(Files.exists(file)).isFalse();
    }

    @Test
    void helpListsTheTypes() {
        assertThat(run("create-model", "--help")).isZero();
        assertThat(out.toString()).contains("--config").contains("q4_k_m").contains("--full-vocab");
    }
}
