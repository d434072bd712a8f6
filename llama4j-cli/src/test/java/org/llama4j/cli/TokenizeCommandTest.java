package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.testing.Fixtures;
import org.llama4j.testing.TinyTokenizerFiles;

class TokenizeCommandTest {
    @TempDir
    Path tmp;



    @Test
    void tokenizeAndDetokenizeWithATinyHuggingFaceFolder() throws Exception {
        TinyTokenizerFiles.writeTokenizerJson(tmp);
        int hello = 256 + TinyTokenizerFiles.MERGED.indexOf("hello");
        int world = 256 + TinyTokenizerFiles.MERGED.indexOf(" world");
        int eot = 256 + TinyTokenizerFiles.MERGED.size() + TinyTokenizerFiles.SPECIALS.indexOf("<|eot|>");
        CliRun r = CliRun.run("tokenize", "--model", tmp.toString(), "hello world<|eot|>");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).startsWith("[" + hello + "," + world + ",").doesNotContain(String.valueOf(eot));
        r = CliRun.run("tokenize", "--model", tmp.resolve("tokenizer.json").toString(), "--special", "hello world<|eot|>");
        assertThat(r.out().strip()).isEqualTo("[" + hello + "," + world + "," + eot + "]");
        r = CliRun.run("detokenize", "--model", tmp.toString(), hello + "," + world + "," + eot);
        assertThat(r.out()).isEqualTo("hello world<|eot|>" + System.lineSeparator());
    }

    @Test
    void jsonlInOrder() throws Exception {
        TinyTokenizerFiles.writeTokenizerJson(tmp);
        Path in = tmp.resolve("in.jsonl");
        Files.write(in, List.of("{\"text\": \"<|eot|>\", \"allowed_special\": \"all\"}",
                "{\"text\": \"hello\", \"allowed_special\": \"none\"}", "{\"text\": \"\", \"allowed_special\": \"none\"}"));
        CliRun r = CliRun.run("tokenize", "--model", tmp.toString(), "--jsonl", in.toString());
        assertThat(r.code()).as(r.err()).isZero();
        int eot = 256 + TinyTokenizerFiles.MERGED.size() + 8;
        assertThat(r.out().lines().toList()).containsExactly("{\"ids\":[" + eot + "]}",
                "{\"ids\":[" + (256 + TinyTokenizerFiles.MERGED.indexOf("hello")) + "]}", "{\"ids\":[]}");
    }

    @Test
    void badInputsGiveSpecificErrors() throws Exception {
        TinyTokenizerFiles.writeTokenizerJson(tmp);
        Path in = tmp.resolve("bad.jsonl");
        Files.write(in, List.of("{\"text\": \"a\", \"allowed_special\": \"some\"}"));
        CliRun r = CliRun.run("tokenize", "--model", tmp.toString(), "--jsonl", in.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("line 1").contains("allowed_special");
        r = CliRun.run("detokenize", "--model", tmp.toString(), "1,x");
        assertThat(r.err()).contains("'x'");
        r = CliRun.run("detokenize", "--model", tmp.toString(), "99999");
        assertThat(r.err()).contains("outside the vocabulary");
        r = CliRun.run("tokenize", "--model", tmp.resolve("missing").toString(), "a");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("missing");
        assertThat(CliRun.run("tokenize", "--help").out()).contains("--jsonl").contains("--special");
    }

    @Test
    void encodeCasesFixtureThroughTheCommandLine() throws Exception {
        Path dir = Fixtures.require("tokenizer");
        Path cases = dir.resolve("encode_cases.jsonl");
        CliRun r = CliRun.run("tokenize", "--model", dir.resolve("llama4/tokenizer.model").toString(), "--jsonl",
                cases.toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<String> expected = Files.readAllLines(cases).stream().filter(l -> !l.isBlank()).map(l -> {
            String ids = l.substring(l.indexOf("\"ids\":") + 6);
            return "{\"ids\":" + ids.substring(0, ids.indexOf(']') + 1).replace(" ", "") + "}";
        }).toList();
        assertThat(r.out().lines().toList()).isEqualTo(expected);
    }
}
