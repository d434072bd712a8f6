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
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ChatTemplate;
import org.llama4j.chat.Llama4ChatFormat;
import org.llama4j.chat.PromptEncoder;
import org.llama4j.chat.RenderedPrompt;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.testing.Fixtures;
import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;

/** Every case of {@code llama-guard/prompt_cases.jsonl} (Llama Guard 4) and {@code lg3_prompt_cases.jsonl}. */
class GuardPromptFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Tokenizer llama4;
    private static Tokenizer llama3;

    @BeforeAll
    static void loadTokenizers() {
        Path fixtures = Fixtures.require("llama-guard");
        llama4 = TokenizerLoader.load(fixtures.resolveSibling("tokenizer/llama4/tokenizer.model"));
        llama3 = TokenizerLoader.load(fixtures.resolveSibling("tokenizer/llama3/tokenizer.model"));
    }

    static Stream<Arguments> llamaGuard4Cases() throws IOException {
        return cases("prompt_cases.jsonl", 16);
    }

    static Stream<Arguments> llamaGuard3Cases() throws IOException {
        return cases("lg3_prompt_cases.jsonl", 9);
    }

    private static Stream<Arguments> cases(String file, int expectedCount) throws IOException {
        Path path = Fixtures.require("llama-guard").resolve(file);
        List<Arguments> cases = new ArrayList<>();
        for (String line : Files.readAllLines(path)) {
            if (!line.isBlank()) {
                JsonNode c = JSON.readTree(line);
                cases.add(Arguments.of(c.get("id").asText(), c));
            }
        }
        // The held-out fixtures have other cases; here a silently shortened file must not pass.
        if (path.startsWith(Fixtures.root())) {
            assertThat(cases).as(file).hasSizeGreaterThanOrEqualTo(expectedCount);
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("llamaGuard4Cases")
    void llamaGuard4(String id, JsonNode c) {
        checkCase(c, llama4, GuardPromptFormat.LLAMA4);
    }

    /**
     * The built-in Llama 4 formatter agrees with the chat layer: the model's own chat template (guard prompt as the
     * user message's content, content encoded plain) and Meta's ChatFormat give the same text and ids.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("llamaGuard4Cases")
    void llamaGuard4AgreesWithTheChatLayer(String id, JsonNode c) throws IOException {
        Path template = Fixtures.require("tokenizer/llama4/chat_template.jinja");
        GuardPrompt prompt = new GuardPromptBuilder(llama4).build(GuardJson.messages(c.get("messages")),
                GuardOptions.defaults().withCategories(CategorySet.LLAMA_STACK_LLAMA_GUARD_4)
                        .withExcluded(excludedOf(c)));
        List<ChatMessage> chat = List.of(ChatMessage.of("user", prompt.text()));
        RenderedPrompt rendered = ChatTemplate.of(Files.readString(template)).render(chat, null, true, Map.of());
        assertThat(rendered.text()).isEqualTo(prompt.rendered());
        assertThat(PromptEncoder.encode(llama4, rendered)).containsExactly(prompt.ids());
        assertThat(PromptEncoder.encode(llama4, new Llama4ChatFormat().encodeDialogPrompt(chat)))
                .containsExactly(prompt.ids());
    }

    private static Set<HazardCategory> excludedOf(JsonNode c) {
        Set<HazardCategory> excluded = EnumSet.noneOf(HazardCategory.class);
        codes(c.get("excluded_categories")).forEach(code -> excluded.add(HazardCategory.requireCode(code)));
        return excluded;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("llamaGuard3Cases")
    void llamaGuard3(String id, JsonNode c) {
        String model = c.get("model").asText();
        List<String> offered = codes(c.get("categories_offered"));
        // The case's model id picks llama-stack's default list; the golden must agree with it.
        assertThat(CategorySet.llamaStackDefault("meta-llama/" + model).categories().stream()
                .map(HazardCategory::code).toList()).isEqualTo(offered);
        checkCase(c, llama3, GuardPromptFormat.LLAMA3);
    }

    private static void checkCase(JsonNode c, Tokenizer tokenizer, GuardPromptFormat expectedFormat) {
        List<GuardMessage> messages = GuardJson.messages(c.get("messages"));
        List<HazardCategory> offered = codes(c.get("categories_offered")).stream()
                .map(HazardCategory::requireCode).toList();
        GuardOptions options = GuardOptions.defaults().withCategories(offered).withExcluded(excludedOf(c));

        GuardPromptBuilder builder = new GuardPromptBuilder(tokenizer);
        assertThat(builder.format()).isEqualTo(expectedFormat);
        GuardPrompt prompt = builder.build(messages, options);

        assertThat(prompt.text()).isEqualTo(c.get("guard_prompt").asText());
        assertThat(GuardPromptBuilder.promptText(messages, options)).isEqualTo(prompt.text());
        assertThat(prompt.rendered()).isEqualTo(c.get("rendered").asText());
        JsonNode expectedIds = c.has("meta_chat_format_ids") ? c.get("meta_chat_format_ids") : c.get("ids");
        assertThat(prompt.ids()).containsExactly(ints(expectedIds));
        // The plain-content ids still spell out the rendered text, token for token.
        assertThat(tokenizer.decode(prompt.ids())).isEqualTo(prompt.rendered());
        // And the fixture's transformers-route ids are the rendered text with special-token parsing on: where the
        // two routes differ, that route let content text become control tokens.
        int[] specialRoute = tokenizer.encode(prompt.rendered(), SpecialTokens.ALL);
        assertThat(specialRoute).containsExactly(ints(c.get("ids")));
        if (c.has("meta_chat_format_ids")) {
            assertThat(prompt.ids()).isNotEqualTo(specialRoute);
            assertThat(countSpecial(tokenizer, prompt.ids())).isLessThan(countSpecial(tokenizer, specialRoute));
        }
    }

    private static long countSpecial(Tokenizer tokenizer, int[] ids) {
        return java.util.Arrays.stream(ids).filter(tokenizer::isSpecial).count();
    }

    private static List<String> codes(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
