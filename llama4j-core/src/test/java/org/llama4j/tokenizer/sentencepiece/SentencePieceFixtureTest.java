package org.llama4j.tokenizer.sentencepiece;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.testing.Fixtures;

/** The Unigram tokenizer against sentencepiece's own output on the prompt-guard-tiny texts. */
class SentencePieceFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static SentencePieceTokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = SentencePieceTokenizer.load(Fixtures.require("prompt-guard-tiny").resolve("spm.model"));
    }

    static Stream<JsonNode> tokenizeCases() throws IOException {
        return lines("tokenize_cases.jsonl");
    }

    static Stream<JsonNode> classificationCases() throws IOException {
        return lines("cases.jsonl");
    }

    private static Stream<JsonNode> lines(String file) throws IOException {
        Path p = Fixtures.root().resolve("prompt-guard-tiny").resolve(file);
        if (!Files.exists(p)) {
            return Stream.of(JSON.readTree("{\"id\":\"fixture-absent\"}"));
        }
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(p)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tokenizeCases")
    void idsPiecesAndDecodingMatchSentencepiece(JsonNode c) {
        Fixtures.require("prompt-guard-tiny");
        SentencePieceTokenizer.Encoding e = tokenizer.encode(c.get("text").textValue());
        int[] expectedIds = ints(c.get("input_ids"));
        int[] framed = new int[e.ids().length + 2];
        framed[0] = 1;
        System.arraycopy(e.ids(), 0, framed, 1, e.ids().length);
        framed[framed.length - 1] = 2;
        assertThat(e.pieces()).as(c.get("id").textValue()).containsExactlyElementsOf(strings(c.get("pieces")));
        assertThat(framed).as(c.get("id").textValue()).containsExactly(expectedIds);
        assertThat(tokenizer.decode(expectedIds)).isEqualTo(c.get("decoded").textValue());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("classificationCases")
    void classificationCaseIdsMatch(JsonNode c) {
        Fixtures.require("prompt-guard-tiny");
        SentencePieceTokenizer.Encoding e = tokenizer.encode(c.get("text").textValue());
        assertThat(e.ids()).as(c.get("id").textValue()).containsExactly(ints(c.get("ids")));
        assertThat(e.pieces()).containsExactlyElementsOf(strings(c.get("pieces")));
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).intValue();
        }
        return out;
    }

    static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.textValue()));
        return out;
    }
}
