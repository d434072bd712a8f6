package org.llama4j.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llama4j.chat.ChatMessage;
import org.llama4j.generate.Cancellation;
import org.llama4j.kernel.KernelMode;
import org.llama4j.testing.TinyModels;

/** The library API end to end on a generated model: template → tokens → generation → streamed answer. */
class ChatModelTest {
    private static ChatModel model;

    @BeforeAll
    static void load() {
        Path gguf = TinyModels.tinyGguf();
        model = ChatModel.load(gguf);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void streamedDeltasAreTheAnswerAndGreedyIsDeterministic() {
        List<ChatMessage> messages = List.of(ChatMessage.system("Be brief."), ChatMessage.user("hello world"));
        List<String> deltas = new ArrayList<>();
        ChatResponse a = model.chat(messages, ChatOptions.greedy(12), deltas::add);
        ChatResponse b = model.chat(messages, ChatOptions.greedy(12));
        assertThat(String.join("", deltas)).isEqualTo(a.text());
        assertThat(a.generation().tokens()).isEqualTo(b.generation().tokens());
        assertThat(a.completionTokens()).isBetween(1, 12);
        assertThat(a.promptTokens()).isEqualTo(model.promptTokens(messages, ChatOptions.greedy(12)).length);
        assertThat(a.finishReason()).isIn(ChatResponse.Finish.STOP, ChatResponse.Finish.LENGTH);
    }

    @Test
    void promptUsesTheModelsTemplateWithContentAsPlainText() {
        assertThat(model.template()).isPresent();
        int eot = model.tokenizer().specialTokenId("<|eot|>").orElseThrow();
        int[] ids = model.promptTokens(List.of(ChatMessage.user("a <|eot|> b")), ChatOptions.greedy(1));
        // exactly one <|eot|>: the template's, after the user turn; the typed one stays text
        assertThat(java.util.Arrays.stream(ids).filter(i -> i == eot).count()).isEqualTo(1);
        assertThat(ids[0]).isEqualTo(model.tokenizer().bosId());
    }

    @Test
    void seededSamplingIsReproducible() {
        List<ChatMessage> messages = List.of(ChatMessage.user("hello"));
        ChatOptions options = ChatOptions.defaults().withMaxTokens(10)
                .withSampling(org.llama4j.generate.SamplingParams.defaults(1234).withTemperature(1.2f));
        ChatResponse a = model.chat(messages, options);
        ChatResponse b = model.chat(messages, options);
        assertThat(a.generation().tokens()).isEqualTo(b.generation().tokens());
    }

    @Test
    void conversationReusesItsCacheAndMatchesAFreshRun() {
        try (Conversation c = model.newConversation()) {
            c.system("You are terse.");
            ChatResponse first = c.send("hello", ChatOptions.greedy(6), d -> { }, null);
            int afterFirst = c.cachedTokens();
            assertThat(afterFirst).isPositive();
            ChatResponse second = c.send("world", ChatOptions.greedy(6), d -> { }, null);
            assertThat(c.cachedTokens()).isGreaterThan(afterFirst);
            assertThat(c.messages()).hasSize(5);
            // the incremental turn equals answering the whole history from scratch
            List<ChatMessage> history = c.messages().subList(0, 4);
            ChatResponse fresh = model.chat(history, ChatOptions.greedy(6));
            assertThat(second.generation().tokens()).isEqualTo(fresh.generation().tokens());
            assertThat(first.text()).isEqualTo(c.messages().get(2).content().asText());
        }
    }

    @Test
    void activationModeIsALoadOptionKeepingTheOthers() {
        assertThat(model.model().activations()).as("the default").isEqualTo(KernelMode.EXACT);
        LoadOptions q8 = LoadOptions.defaults().withMaxImageTiles(2).withActivations(KernelMode.Q8_ACTIVATIONS);
        assertThat(q8.maxImageTiles()).isEqualTo(2);
        assertThat(q8.weights().quantization()).isEmpty();
        try (ChatModel loaded = ChatModel.load(TinyModels.tinyGguf(), q8)) {
            assertThat(loaded.model().activations()).isEqualTo(KernelMode.Q8_ACTIVATIONS);
        }
    }

    @Test
    void cancellationEndsTheAnswer() {
        Cancellation cancel = new Cancellation();
        cancel.cancel();
        ChatResponse r = model.chat(List.of(ChatMessage.user("hi")), ChatOptions.greedy(20), d -> { }, cancel);
        assertThat(r.finishReason()).isEqualTo(ChatResponse.Finish.CANCELLED);
        assertThat(r.completionTokens()).isZero();
    }
}
