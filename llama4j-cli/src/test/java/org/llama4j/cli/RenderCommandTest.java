package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RenderCommandTest {
    @TempDir
    Path tmp;



    @Test
    void rendersWithAModelFolderTemplate() throws Exception {
        Path model = Files.createDirectory(tmp.resolve("model"));
        Files.writeString(model.resolve("tokenizer_config.json"), """
                {"bos_token": "<|begin_of_text|>", "chat_template":
                 "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}{{ flag|default('') }}"}""");
        Path conv = Files.writeString(tmp.resolve("conv.json"), "[{\"role\": \"user\", \"content\": \"hi <|eot|>\"}]");
        CliRun r = CliRun.run("render", "--model", model.toString(), "--messages", conv.toString(),
                "--template-kwargs", "{\"flag\": \"!\"}");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("<|begin_of_text|>[user]hi <|eot|>[assistant]!");
        CliRun segs = CliRun.run("render", "--model", model.toString(), "--messages", conv.toString(),
                "--no-generation-prompt", "--segments");
        assertThat(segs.out().lines()).contains("{\"kind\":\"content\",\"text\":\"hi <|eot|>\"}");
    }

    @Test
    void fallsBackToMetasBuiltInFormat() throws Exception {
        Path conv = Files.writeString(tmp.resolve("conv.json"), "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello!\"}]}");
        CliRun r = CliRun.run("render", "--builtin", "--messages", conv.toString());
        assertThat(r.out()).isEqualTo(
                "<|begin_of_text|><|header_start|>user<|header_end|>\n\nHello!<|eot|><|header_start|>assistant<|header_end|>\n\n");
    }

    @Test
    void printsIdsWithTheModelsTokenizer() throws Exception {
        Path model = org.llama4j.testing.Fixtures.require("tokenizer/llama4");
        Path conv = Files.writeString(tmp.resolve("conv.json"), "[{\"role\": \"user\", \"content\": \"Hello!\"}]");
        String expected = "[200000, 200005, 1556, 200006, 368, 19873, 13, 200008, 200005, 140680, 200006, 368]";
        CliRun r = CliRun.run("render", "--model", model.toString(), "--messages", conv.toString(), "--ids");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo(expected);
        CliRun meta = CliRun.run("render", "--builtin", "--tokenizer", model.resolve("tokenizer.model").toString(),
                "--messages", conv.toString(), "--ids");
        assertThat(meta.out().strip()).isEqualTo(expected);
    }

    @Test
    void badInputIsOneClearLine() throws Exception {
        Path conv = Files.writeString(tmp.resolve("conv.json"), "{not json");
        CliRun r = CliRun.run("render", "--builtin", "--messages", conv.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: ").contains("is not valid JSON");
    }
}
