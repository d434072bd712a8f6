package org.llama4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.llama4j.testing.Fixtures;

/**
 * Every golden of {@code tokenizer/encode_cases.jsonl} from every source of the Llama 4 vocabulary, and the
 * Llama 3 goldens from Meta's Llama 3 {@code tokenizer.model}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EncodeCasesFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Path fixtures;

    @BeforeAll
    void locate() {
        fixtures = Fixtures.require("tokenizer").getParent();
    }

    record Case(String id, String text, SpecialTokens mode, int[] ids) {
    }

    static List<Case> cases(Path jsonl) throws IOException {
        List<Case> cases = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = JSON.readTree(line);
            int[] ids = new int[n.get("ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = n.get("ids").get(i).asInt();
            }
            SpecialTokens mode = switch (n.get("allowed_special").asText()) {
                case "none" -> SpecialTokens.NONE;
                case "all" -> SpecialTokens.ALL;
                default -> throw new IllegalStateException("unknown allowed_special in " + line);
            };
            cases.add(new Case(n.get("id").asText(), n.get("text").asText(), mode, ids));
        }
        return cases;
    }

    /** Runs every case; collects all mismatches so one run reports every failing case at once. */
    static void assertAllCases(Tokenizer tokenizer, List<Case> cases) {
        Map<String, String> failures = new LinkedHashMap<>();
        for (Case c : cases) {
            int[] ids = tokenizer.encode(c.text(), c.mode());
            if (!java.util.Arrays.equals(ids, c.ids())) {
                int at = IntStream.range(0, Math.min(ids.length, c.ids().length))
                        .filter(i -> ids[i] != c.ids()[i]).findFirst().orElse(Math.min(ids.length, c.ids().length));
                failures.put(c.id(), "differs at index " + at + ": got " + slice(ids, at) + ", expected "
                        + slice(c.ids(), at));
            } else if (!tokenizer.decode(ids).equals(c.text())) {
                failures.put(c.id(), "decode does not reproduce the text");
            }
        }
        assertThat(failures).as("%d cases", cases.size()).isEmpty();
        assertThat(cases).hasSizeGreaterThan(50);
    }

    private static String slice(int[] a, int at) {
        return java.util.Arrays.toString(java.util.Arrays.copyOfRange(a, Math.max(0, at - 2), Math.min(a.length, at + 4)));
    }

    @Test
    void llama4TokenizerModel() throws IOException {
        Tokenizer t = TokenizerLoader.load(fixtures.resolve("tokenizer/llama4/tokenizer.model"));
        assertThat(t.family()).isEqualTo(TokenizerFamily.LLAMA4);
        assertAllCases(t, cases(fixtures.resolve("tokenizer/encode_cases.jsonl")));
    }

    @Test
    void llama4TokenizerJson() throws IOException {
        Tokenizer t = TokenizerLoader.load(fixtures.resolve("tokenizer/llama4/tokenizer.json"));
        assertThat(t.vocabularySize()).isEqualTo(202_048);
        assertAllCases(t, cases(fixtures.resolve("tokenizer/encode_cases.jsonl")));
    }

    @Test
    void llama4Gguf() throws IOException {
        Tokenizer t = TokenizerLoader.load(Fixtures.require("llama4-tiny/llama4-vocab.gguf"));
        assertThat(t.vocabularySize()).isEqualTo(202_048);
        assertThat(t.rankCount()).isEqualTo(200_000);
        assertThat(t.bosId()).isEqualTo(200_000);
        assertThat(t.eotId()).isEqualTo(200_008);
        assertAllCases(t, cases(fixtures.resolve("tokenizer/encode_cases.jsonl")));
    }

    @Test
    void llama3TokenizerModel() throws IOException {
        Tokenizer t = TokenizerLoader.load(fixtures.resolve("tokenizer/llama3/tokenizer.model"));
        assertThat(t.family()).isEqualTo(TokenizerFamily.LLAMA3);
        assertAllCases(t, cases(fixtures.resolve("tokenizer/encode_cases_llama3.jsonl")));
    }
}
