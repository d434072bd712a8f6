package org.llama4j.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.testing.Fixtures;

/** The official Llama 4 chat template against the transformers-rendered goldens in the shared fixtures. */
class ChatTemplateFixtureTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Clock PINNED = Clock.fixed(Instant.parse("2025-04-05T12:00:00Z"), ZoneOffset.UTC);
    static Path dir;

    @BeforeAll
    static void locate() {
        dir = Fixtures.require("tokenizer");
    }

    static List<JsonNode> lines(String file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(Fixtures.root().resolve("tokenizer").resolve(file))) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    static Stream<JsonNode> chatCases() throws IOException {
        Fixtures.require("tokenizer/chat_cases.jsonl"); // skips (fails under CI=true) when absent
        List<JsonNode> cases = lines("chat_cases.jsonl");
        if (cases.size() < 25) {
            throw new IllegalStateException("expected at least 25 chat cases, found " + cases.size());
        }
        return cases.stream();
    }

    static Map<String, Object> kwargs(JsonNode c) {
        Map<String, Object> kw = new HashMap<>();
        c.path("template_kwargs").properties().forEach(e -> kw.put(e.getKey(), e.getValue()));
        return kw;
    }

    static ChatTemplate official() throws IOException {
        return ChatTemplate.fromTokenizerConfig(Fixtures.require("tokenizer/llama4/tokenizer_config.json"))
                .withClock(PINNED);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("chatCases")
    void rendersLikeTransformers(JsonNode c) throws IOException {
        RenderedPrompt p = official().render(c.get("messages"), c.get("tools"),
                c.get("add_generation_prompt").booleanValue(), kwargs(c));
        assertThat(p.text()).as(c.get("id").asText()).isEqualTo(c.get("rendered").textValue());
        assertThat(String.join("", p.segments().stream().map(Segment::text).toList())).isEqualTo(p.text());
    }

    @Test
    void plainFileAndConfigStringAreTheSameTemplate() throws IOException {
        String file = Files.readString(dir.resolve("llama4/chat_template.jinja"));
        JsonNode c = chatCases().filter(x -> x.get("id").asText().equals("tools-in-system")).findFirst().orElseThrow();
        RenderedPrompt p = ChatTemplate.of(file).withClock(PINNED).render(c.get("messages"), c.get("tools"), true,
                kwargs(c));
        assertThat(p.text()).isEqualTo(c.get("rendered").textValue());
    }

    @Test
    void raisesTheTemplatesOwnError() throws IOException {
        for (JsonNode c : lines("chat_template_errors.jsonl")) {
            ChatTemplate t = official();
            assertThatThrownBy(() -> t.render(c.get("messages"), c.get("tools"),
                    c.get("add_generation_prompt").booleanValue(), Map.of()))
                    .isInstanceOf(ChatTemplateException.class)
                    .hasMessage(c.get("error").textValue());
        }
    }
}
