package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.llama4j.testing.Fixtures;

class GuardCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;



    static Stream<Arguments> promptCases() throws Exception {
        Path dir = Fixtures.require("llama-guard");
        List<Arguments> cases = new ArrayList<>();
        for (String file : List.of("prompt_cases.jsonl", "lg3_prompt_cases.jsonl")) {
            String tokenizer = file.startsWith("lg3") ? "tokenizer/llama3/tokenizer.model"
                    : "tokenizer/llama4/tokenizer.model";
            for (String line : Files.readAllLines(dir.resolve(file))) {
                if (!line.isBlank()) {
                    JsonNode c = JSON.readTree(line);
                    cases.add(Arguments.of(c.get("id").asText(), dir.resolveSibling(tokenizer), c));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("promptCases")
    void renderOnlyMatchesTheFixture(String id, Path tokenizer, JsonNode c) throws Exception {
        Path conversation = tmp.resolve("conv.json");
        Files.writeString(conversation, c.get("messages").toString());
        List<String> args = new ArrayList<>(List.of("guard", "--model", tokenizer.toString(),
                "--messages", conversation.toString(), "--render-only",
                "--categories", join(c.get("categories_offered"))));
        if (!c.get("excluded_categories").isEmpty()) {
            args.addAll(List.of("--exclude", join(c.get("excluded_categories"))));
        }
        CliRun text = CliRun.run(args.toArray(String[]::new));
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).isEqualTo(c.get("guard_prompt").asText() + System.lineSeparator());

        if (c.has("meta_chat_format_ids")) {
            // Loading the tokenizer dominates each run: the full chat text is checked where it matters most.
            args.add("--rendered");
            CliRun rendered = CliRun.run(args.toArray(String[]::new));
            assertThat(rendered.out()).isEqualTo(c.get("rendered").asText() + System.lineSeparator());
            args.removeLast();
        }

        args.add("--ids");
        CliRun ids = CliRun.run(args.toArray(String[]::new));
        assertThat(ids.code()).as(ids.err()).isZero();
        List<String> lines = ids.out().lines().toList();
        JsonNode expected = c.has("meta_chat_format_ids") ? c.get("meta_chat_format_ids") : c.get("ids");
        assertThat(JSON.readTree(lines.getLast())).isEqualTo(expected);
    }

    private static String join(JsonNode codes) {
        List<String> out = new ArrayList<>();
        codes.forEach(n -> out.add(n.asText()));
        return String.join(",", out);
    }

    @Test
    void defaultCategoriesAreTheModelCardsAndSetsAreSelectable() throws Exception {
        Path tokenizer = Fixtures.require("tokenizer/llama4/tokenizer.model");
        Path conversation = tmp.resolve("conv.json");
        Files.writeString(conversation, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
        CliRun r = CliRun.run("guard", "--model", tokenizer.toString(), "--messages", conversation.toString(), "--render-only");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("S13: Elections.\nS14: Code Interpreter Abuse.\n<END UNSAFE");
        r = CliRun.run("guard", "--model", tokenizer.toString(), "--messages", conversation.toString(), "--render-only",
                "--category-set", "llama-stack-lg4", "--exclude", "S1, S2");
        assertThat(r.out()).contains("<BEGIN UNSAFE CONTENT CATEGORIES>\nS3: Sex Crimes.")
                .contains("S13: Elections.\n<END UNSAFE");
    }

    @Test
    void badInputsAreSpecificErrors() throws Exception {
        Path tokenizer = Fixtures.require("tokenizer/llama4/tokenizer.model");
        Path good = tmp.resolve("good.json");
        Files.writeString(good, "[{\"role\": \"user\", \"content\": \"hi\"}]");
        Path broken = tmp.resolve("broken.json");
        Files.writeString(broken, "[{\"role\": ");
        Path empty = tmp.resolve("empty.json");
        Files.writeString(empty, "[]");
        String m = tokenizer.toString();

        assertError(CliRun.run("guard", "--model", m, "--messages", broken.toString(), "--render-only"), "not valid JSON");
        assertError(CliRun.run("guard", "--model", m, "--messages", tmp.resolve("nope.json").toString(), "--render-only"),
                "no such file");
        assertError(CliRun.run("guard", "--model", m, "--messages", empty.toString(), "--render-only"), "is empty");
        assertError(CliRun.run("guard", "--model", m, "--messages", good.toString(), "--render-only", "--exclude", "S15"),
                "unknown hazard category code 'S15'");
        assertError(CliRun.run("guard", "--model", m, "--messages", good.toString(), "--render-only", "--categories",
                "S1,S1"), "more than once");
        assertError(CliRun.run("guard", "--model", m, "--messages", good.toString(), "--render-only", "--category-set",
                "lg9"), "unknown category set 'lg9'");
        assertError(CliRun.run("guard", "--model", m, "--messages", good.toString(), "--ids"), "--ids needs --render-only");
        assertError(CliRun.run("guard", "--model", m, "--messages", good.toString(), "--render-only", "--categories", "S1",
                "--category-set", "lg3-1b"), "mutually exclusive");
        assertError(CliRun.run("guard", "--model", m, "--messages", good.toString()), "is a tokenizer, not a model");
    }

    /** Llama Guard 4 runs on Llama 4, Llama Guard 3 on dense Llama 3: both architectures load. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama4-tiny/tiny-scout/tiny-scout.BF16.gguf", "llama3-tiny/llama3-tiny.Q8_0.gguf"})
    void runsTheModelAndPrintsTheVerdictJson(String fixture) throws Exception {
        Path gguf = Fixtures.require(fixture);
        Path conversation = tmp.resolve("conv.json");
        Files.writeString(conversation, "[{\"role\": \"user\", \"content\": \"A bomb?\"}]");
        // Random weights (tiny-scout: a 256-token context, two categories fit): the answer is noise.
        CliRun r = CliRun.run("guard", "--model", gguf.toString(), "--messages", conversation.toString(),
                "--categories", "S1,S9", "--max-new-tokens", "4");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode verdict = JSON.readTree(r.out());
        assertThat(verdict.get("verdict").asText()).isIn("safe", "unsafe", "error");
        assertThat(verdict.get("block").asBoolean()).isEqualTo(!verdict.get("verdict").asText().equals("safe"));
        assertThat(verdict.get("categories").isArray()).isTrue();
        assertThat(verdict.get("p_unsafe").asDouble()).isBetween(0.0, 1.0);
        assertThat(verdict.get("p_unsafe").isNumber()).isTrue();
    }

    private static void assertError(CliRun r, String message) {
        assertThat(r.code()).as(r.out()).isNotZero();
        assertThat(r.err()).contains(message);
        assertThat(r.out()).isEmpty();
    }
}
