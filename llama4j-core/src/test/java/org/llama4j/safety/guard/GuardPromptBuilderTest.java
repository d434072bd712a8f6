package org.llama4j.safety.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.llama4j.safety.guard.GuardMessage.Role;

class GuardPromptBuilderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String conversationOf(String prompt) {
        int from = prompt.indexOf("<BEGIN CONVERSATION>\n\n") + "<BEGIN CONVERSATION>\n\n".length();
        return prompt.substring(from, prompt.indexOf("\n\n<END CONVERSATION>"));
    }

    private static String categoriesOf(String prompt) {
        int from = prompt.indexOf("<BEGIN UNSAFE CONTENT CATEGORIES>\n") + "<BEGIN UNSAFE CONTENT CATEGORIES>\n".length();
        return prompt.substring(from, prompt.indexOf("\n<END UNSAFE CONTENT CATEGORIES>"));
    }

    @Test
    void defaultOffersTheModelCardsFourteen() {
        String prompt = GuardPromptBuilder.promptText(List.of(GuardMessage.user("hi")), GuardOptions.defaults());
        assertThat(categoriesOf(prompt).lines()).hasSize(14).startsWith("S1: Violent Crimes.")
                .endsWith("S14: Code Interpreter Abuse.");
        assertThat(categoriesOf(GuardPromptBuilder.promptText(List.of(GuardMessage.user("hi")),
                GuardOptions.of(CategorySet.LLAMA_STACK_LLAMA_GUARD_4))).lines()).hasSize(13);
    }

    @Test
    void placeholdersInsideMessagesStayLiteral() {
        String prompt = GuardPromptBuilder.promptText(
                List.of(GuardMessage.user("$agent_type ${categories} $conversations")), GuardOptions.defaults());
        assertThat(conversationOf(prompt)).isEqualTo("User: $agent_type ${categories} $conversations");
        assertThat(prompt).startsWith("Task: Check if there is unsafe content in 'User' messages");
    }

    @Test
    void agentTypeIsTheLastRoleCapitalized() {
        List<GuardMessage> messages = List.of(GuardMessage.user("q"), GuardMessage.of(Role.TOOL, "result"),
                GuardMessage.of(Role.SYSTEM, "note"));
        String prompt = GuardPromptBuilder.promptText(messages, GuardOptions.defaults());
        assertThat(conversationOf(prompt)).isEqualTo("User: q\n\nTool: result\n\nSystem: note");
        assertThat(prompt).contains("ONLY THE LAST System message").contains("in 'System' messages");
    }

    @Test
    void firstMessageRelabelledThenLeadingUserDropped() {
        assertThat(GuardPromptBuilder.prepareConversation(List.of(GuardMessage.of(Role.SYSTEM, "be nice"),
                GuardMessage.assistant("hello")))).containsExactly(GuardMessage.user("be nice"),
                GuardMessage.assistant("hello"));
        assertThat(GuardPromptBuilder.prepareConversation(List.of(GuardMessage.of(Role.SYSTEM, "be nice"),
                GuardMessage.user("a"), GuardMessage.user("b")))).containsExactly(GuardMessage.user("a"),
                GuardMessage.user("b"));
        assertThat(GuardPromptBuilder.prepareConversation(List.of(GuardMessage.assistant("alone"))))
                .containsExactly(GuardMessage.user("alone"));
        assertThatThrownBy(() -> GuardPromptBuilder.prepareConversation(List.of()))
                .isInstanceOf(GuardInputException.class).hasMessageContaining("empty");
    }

    @Test
    void contentPartsJoinWithOneSpaceAndImagesBecomePlaceholders() {
        GuardMessage m = new GuardMessage(Role.USER, List.of(new GuardMessage.Image("a.png"),
                new GuardMessage.Text(" look "), new GuardMessage.Image(null)));
        assertThat(m.contentText()).isEqualTo("<image>  look  <image>");
        assertThat(new GuardMessage(Role.USER, List.of()).contentText()).isEmpty();
    }

    @Test
    void exclusionRules() {
        GuardOptions all = GuardOptions.defaults().withExcluded(Set.of(HazardCategory.values()));
        assertThat(all.listedCategories()).hasSize(14);
        GuardOptions lg4 = GuardOptions.of(CategorySet.LLAMA_STACK_LLAMA_GUARD_4);
        // Excluding the thirteen offered (not all fourteen) leaves nothing, as in llama-stack.
        assertThat(lg4.withExcluded(Set.copyOf(lg4.categories())).listedCategories()).isEmpty();
        assertThat(lg4.withExcluded(Set.of(HazardCategory.S14)).listedCategories()).hasSize(13);
        assertThat(GuardOptions.defaults().withCategories(List.of(HazardCategory.S3, HazardCategory.S1))
                .listedCategories()).containsExactly(HazardCategory.S3, HazardCategory.S1);
    }

    @Test
    void badOptionsAreSpecificErrors() {
        assertThatThrownBy(() -> GuardOptions.defaults().withCategories(List.of()))
                .hasMessageContaining("no categories offered");
        assertThatThrownBy(() -> GuardOptions.defaults().withCategories(List.of(HazardCategory.S1, HazardCategory.S1)))
                .hasMessageContaining("more than once");
        assertThatThrownBy(() -> GuardOptions.defaults().withMaxNewTokens(0)).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> HazardCategory.requireCode("S15")).hasMessageContaining("'S15'");
        assertThatThrownBy(() -> HazardCategory.requireCode("s1")).hasMessageContaining("'s1'");
        assertThatThrownBy(() -> CategorySet.fromCliName("lg5")).hasMessageContaining("model-card");
        assertThat(CategorySet.fromCliName("LG3-1B")).isEqualTo(CategorySet.LLAMA_GUARD_3_1B);
    }

    @Test
    void llamaStackDefaultsByModelId() {
        assertThat(CategorySet.llamaStackDefault("meta-llama/Llama-Guard-4-12B").categories()).hasSize(13);
        assertThat(CategorySet.llamaStackDefault("Llama-Guard-3-8B").categories()).hasSize(14);
        assertThat(CategorySet.llamaStackDefault("meta-llama/Llama-Guard-3-1B").categories()).hasSize(13);
        assertThat(CategorySet.llamaStackDefault("my-finetune")).isEqualTo(CategorySet.LLAMA_STACK_UNKNOWN_MODEL);
    }

    @Test
    void formatMustMatchTheTokenizer() {
        assertThatThrownBy(() -> new GuardPromptBuilder(TinyGuardVocabulary.llama3(), GuardPromptFormat.LLAMA4))
                .hasMessageContaining("LLAMA4 tokenizer, got LLAMA3");
    }

    @Test
    void jsonMessages() throws Exception {
        List<GuardMessage> messages = GuardJson.messages(JSON.readTree("""
                {"messages": [{"role": "user", "content": ["a", {"type": "text", "text": "b"},
                  {"type": "image_url", "image_url": {"url": "x.png"}}]},
                 {"role": "assistant", "content": "c", "tool_calls": []}]}"""));
        assertThat(messages.get(0).contentText()).isEqualTo("a b <image>");
        assertThat(messages.get(0).content().get(2)).isEqualTo(new GuardMessage.Image("x.png"));
        assertThat(messages.get(1)).isEqualTo(GuardMessage.assistant("c"));
    }

    @Test
    void badJsonMessagesAreSpecificErrors() {
        assertJsonError("{}", "\"messages\"");
        assertJsonError("\"hi\"", "must be a JSON array");
        assertJsonError("[{\"role\": \"bot\", \"content\": \"x\"}]", "message 0: unknown message role 'bot'");
        assertJsonError("[{\"content\": \"x\"}]", "message 0: \"role\" must be a string, found nothing");
        assertJsonError("[{\"role\": \"user\"}]", "message 0: \"content\" must be a string or a list");
        assertJsonError("[{\"role\": \"user\", \"content\": null}]", "found null");
        assertJsonError("[{\"role\": \"user\", \"content\": [{\"type\": \"audio\"}]}]",
                "message 0 content part 0: unknown content type 'audio'");
        assertJsonError("[{\"role\": \"user\", \"content\": [{\"type\": \"text\"}]}]", "needs a string \"text\"");
        assertJsonError("[{\"role\": \"user\", \"content\": [3]}]", "expected a string or an object");
        assertJsonError("[1]", "message 0: expected an object");
    }

    private static void assertJsonError(String json, String message) {
        assertThatThrownBy(() -> GuardJson.messages(JSON.readTree(json))).isInstanceOf(GuardInputException.class)
                .hasMessageContaining(message);
    }
}
