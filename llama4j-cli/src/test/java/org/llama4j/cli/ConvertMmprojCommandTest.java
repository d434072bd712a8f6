package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.testing.Fixtures;
import org.llama4j.vision.VisionEncoder;

class ConvertMmprojCommandTest {
    @TempDir
    Path tmp;

    @Test
    void convertsTheFixtureIntoAnMmprojTheEncoderLoads() {
        Path folder = Fixtures.require("llama4-vision-tiny");
        Path out = tmp.resolve("mmproj.gguf");
        CliRun r = CliRun.run("convert-mmproj", "--model", folder.toString(),
                "-o", out.toString(), "--type", "q8_0");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote " + out).contains("Q8_0");
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.getString("clip.projector_type")).isEqualTo("llama4");
            assertThat(VisionEncoder.load(f).geometry().tokensPerTile()).isEqualTo(4);
        }
    }

    @Test
    void badArgumentsGiveOneClearError() {
        CliRun r = CliRun.run("convert-mmproj", "--model", tmp.toString(),
                "-o", tmp.resolve("x.gguf").toString(), "--type", "Q4_K");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("--type must be F32, F16, BF16 or Q8_0, not 'Q4_K'");
        r = CliRun.run("convert-mmproj", "--model", tmp.resolve("nowhere").toString(),
                "-o", tmp.resolve("x.gguf").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("is not a folder");
    }
}
