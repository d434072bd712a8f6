package org.llama4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llama4j.model.InferenceSession;
import org.llama4j.model.Llama4Model;
import org.llama4j.testing.Fixtures;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;

/** The generation loop on tiny-scout (GGUF, which carries its truncated tokenizer) against Meta's greedy runs. */
class GeneratorFixtureTest {
    private static Path dir;
    private static Llama4Model model;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        dir = Fixtures.require("llama4-tiny/tiny-scout");
        Path gguf = dir.resolve("tiny-scout.BF16.gguf");
        model = Llama4Model.load(gguf);
        tokenizer = TokenizerLoader.load(gguf);
    }

    @AfterAll
    static void close() throws Exception {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void greedyGenerationReproducesMetaGreedyRuns() throws Exception {
        JsonNode greedy = new ObjectMapper().readTree(dir.resolve("golden/index.json").toFile()).get("greedy");
        assertThat(greedy.size()).isGreaterThanOrEqualTo(2);
        for (JsonNode run : greedy) {
            int[] prompt = ints(run.get("prompt"));
            int[] expected = ints(run.get("generated"));
            try (InferenceSession session = model.newSession()) {
                List<String> deltas = new ArrayList<>();
                GenerationResult r = new Generator(session, tokenizer)
                        .generate(prompt, GenerationOptions.greedy(expected.length), deltas::add, null);
                assertThat(r.tokens()).containsExactly(expected);
                assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
                assertThat(String.join("", deltas)).isEqualTo(r.text());
                assertThat(r.text()).isEqualTo(tokenizer.decode(expected));
                assertThat(r.promptTokens()).isEqualTo(prompt.length);
                // the last sampled token is never fed back: the session holds prompt + all but the last token
                assertThat(session.position()).isEqualTo(prompt.length + expected.length - 1);
            }
        }
    }

    @Test
    void stopStringEndsGenerationBeforeIt() throws Exception {
        JsonNode run = new ObjectMapper().readTree(dir.resolve("golden/index.json").toFile()).get("greedy").get(0);
        int[] prompt = ints(run.get("prompt"));
        int[] expected = ints(run.get("generated"));
        String full = tokenizer.decode(expected);
        // a stop string taken from the middle of the greedy text
        int cut = full.length() / 2;
        String stop = full.substring(cut, Math.min(full.length(), cut + 3));
        int first = full.indexOf(stop);
        try (InferenceSession session = model.newSession()) {
            StringBuilder streamed = new StringBuilder();
            GenerationResult r = new Generator(session, tokenizer).generate(prompt,
                    GenerationOptions.greedy(expected.length).withStopStrings(List.of(stop)), streamed::append, null);
            assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(r.stopString()).isEqualTo(stop);
            assertThat(r.text()).isEqualTo(full.substring(0, first));
            assertThat(streamed.toString()).isEqualTo(r.text());
        }
    }

    @Test
    void cancellationStopsAfterTheCurrentToken() {
        Cancellation cancel = new Cancellation();
        try (InferenceSession session = model.newSession()) {
            List<String> deltas = new ArrayList<>();
            GenerationResult r = new Generator(session, tokenizer).generate(new int[] {6144, 2307}, GenerationOptions.greedy(50),
                    d -> {
                        deltas.add(d);
                        cancel.cancel();
                    }, cancel);
            assertThat(r.finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(r.tokens().length).isLessThan(50);
        }
    }

    @Test
    void promptLongerThanTheContextIsRejected() {
        try (InferenceSession session = model.newSession()) {
            int[] huge = new int[session.contextLength()];
            assertThatThrownBy(() -> new Generator(session, tokenizer).generate(huge, GenerationOptions.greedy(1), d -> { }, null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("context length");
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
