package org.llama4j.safety.guard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.testing.Fixtures;

/** Every case of {@code llama-guard/output_cases.jsonl}: the fail-closed verdict rule. */
class GuardVerdictFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Arguments> cases() throws IOException {
        Path path = Fixtures.require("llama-guard").resolve("output_cases.jsonl");
        List<Arguments> cases = new ArrayList<>();
        for (String line : Files.readAllLines(path)) {
            if (!line.isBlank()) {
                JsonNode c = JSON.readTree(line);
                cases.add(Arguments.of(JSON.writeValueAsString(c.get("raw").asText()), c));
            }
        }
        assertThat(cases).hasSizeGreaterThanOrEqualTo(18);
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void parsesAsExpected(String name, JsonNode c) {
        Set<HazardCategory> excluded = EnumSet.noneOf(HazardCategory.class);
        c.get("excluded_categories").forEach(n -> excluded.add(HazardCategory.requireCode(n.asText())));
        GuardOptions options = GuardOptions.defaults().withExcluded(excluded);

        GuardVerdict verdict = GuardVerdict.parse(c.get("raw").asText(), options.effectiveExcluded());

        JsonNode expected = c.get("expected");
        assertThat(verdict.verdict().wireName()).isEqualTo(expected.get("verdict").asText());
        assertThat(verdict.categories()).isEqualTo(strings(expected.get("categories")));
        assertThat(verdict.block()).isEqualTo(expected.get("block").asBoolean());
        assertThat(verdict.malformedCodes()).isEqualTo(strings(expected.path("malformed_codes")));
        assertThat(verdict.pUnsafe()).isEmpty();

        // The JSON form carries the same fields (malformed_codes only when there are some).
        JsonNode json = GuardJson.verdict(verdict);
        for (String field : List.of("verdict", "categories", "block", "malformed_codes")) {
            assertThat(json.get(field)).as(field).isEqualTo(expected.get(field));
        }
        // Fail closed never lets through what llama-stack would flag or reject.
        boolean llamaStackPasses = c.get("llama_stack").get("outcome").asText().equals("no_violation");
        assertThat(verdict.block()).isEqualTo(!llamaStackPasses);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
