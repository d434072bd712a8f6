package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llama4j.testing.Fixtures;

/** {@code --quantize} on the commands that generate: parsed strictly, and handed to the model loader. */
class QuantizeOptionTest {

    @ParameterizedTest
    @ValueSource(strings = {"generate", "chat", "serve"})
    void unknownTypeIsAUsageErrorListingTheTypes(String command) {
        CliRun r = CliRun.run(command, "--model", "m", "--quantize", "q9_9");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--quantize").contains("unknown model type 'q9_9'").contains("q4_k_m");
    }

    @ParameterizedTest
    @ValueSource(strings = {"generate", "chat"})
    void quantizingAGgufFailsWithTheReason(String command) {
        Path gguf = Fixtures.require("llama4-tiny/tiny-scout").resolve("tiny-scout.BF16.gguf");
        String[] args = command.equals("generate")
                ? new String[] {command, "--model", gguf.toString(), "-p", "hi", "-n", "1", "--quantize", "q4_0"}
                : new String[] {command, "--model", gguf.toString(), "-n", "1", "--quantize", "q4_0"};
        CliRun r = CliRun.runWithInput("hi\n", args);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("error: ").contains("applies to Hugging Face safetensors folders");
    }
}
