package org.llama4j.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ChatTemplate;
import org.llama4j.chat.Llama4ChatFormat;
import org.llama4j.chat.PromptEncoder;
import org.llama4j.chat.ToolCallParse;
import org.llama4j.chat.ToolCallParser;
import org.llama4j.generate.Cancellation;
import org.llama4j.generate.FinishReason;
import org.llama4j.generate.GenerationResult;
import org.llama4j.generate.Generator;
import org.llama4j.model.InferenceSession;
import org.llama4j.model.Llama4Config;
import org.llama4j.model.Llama4Model;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;

/**
 * A Llama 4 model ready to chat: weights, tokenizer and chat format loaded from one path (a GGUF file or a
 * Hugging Face folder).
 *
 * <pre>{@code
 * try (ChatModel model = ChatModel.load(Path.of("Llama-4-Scout-17B-16E-Instruct-Q4_K_M.gguf"))) {
 *     ChatResponse r = model.chat(List.of(ChatMessage.user("Why is the sky blue?")), ChatOptions.defaults(),
 *             System.out::print);
 * }
 * }</pre>
 *
 * <p>Each {@link #chat} call runs on its own KV cache, so one model can serve several threads at once; a
 * {@link Conversation} keeps its cache between turns and only processes what is new.
 */
public final class ChatModel implements AutoCloseable {
    private final Llama4Model model;
    private final Tokenizer tokenizer;
    private final ChatTemplate template; // null: Meta's built-in Llama 4 format

    ChatModel(Llama4Model model, Tokenizer tokenizer, ChatTemplate template) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
    }

    /** Loads weights, tokenizer and chat template (the model's own, else Meta's built-in format). */
    public static ChatModel load(Path path) {
        Tokenizer tokenizer = TokenizerLoader.load(path);
        Optional<ChatTemplate> template;
        try {
            template = ChatTemplate.forModel(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Llama4Model model = Llama4Model.load(path);
        return new ChatModel(model, tokenizer, template.orElse(null));
    }

    public Llama4Model model() {
        return model;
    }

    public Llama4Config config() {
        return model.config();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The chat template in use, or empty when the built-in Meta format is used. */
    public Optional<ChatTemplate> template() {
        return Optional.ofNullable(template);
    }

    /**
     * The token ids of a conversation prompt ending with the assistant header. Message content is always encoded
     * as plain text: special-token text a user typed never becomes a control token.
     */
    public int[] promptTokens(List<ChatMessage> messages, ChatOptions options) {
        if (template != null) {
            return PromptEncoder.encode(tokenizer, template.render(messages, options.tools(), true,
                    options.templateKwargs()));
        }
        if (options.tools() != null) {
            throw new IllegalArgumentException("this model has no chat template, and Meta's built-in format"
                    + " takes tools in the system prompt: describe them in a system message instead");
        }
        return PromptEncoder.encode(tokenizer, new Llama4ChatFormat().encodeDialogPrompt(messages));
    }

    public ChatResponse chat(List<ChatMessage> messages, ChatOptions options) {
        return chat(messages, options, delta -> { }, null);
    }

    public ChatResponse chat(List<ChatMessage> messages, ChatOptions options, Consumer<String> onDelta) {
        return chat(messages, options, onDelta, null);
    }

    /**
     * Answers the conversation. Text deltas stream to {@code onDelta} as they become final; {@code cancel} (may be
     * null) stops generation from another thread.
     */
    public ChatResponse chat(List<ChatMessage> messages, ChatOptions options, Consumer<String> onDelta,
            Cancellation cancel) {
        int[] prompt = promptTokens(messages, options);
        try (InferenceSession session = model.newSession()) {
            GenerationResult g = new Generator(session, tokenizer).generate(prompt, options.generation(), onDelta,
                    cancel);
            return answer(g);
        }
    }

    /** Plain completion of {@code text} (no chat format): BOS, then the text as plain text. */
    public GenerationResult complete(String text, org.llama4j.generate.GenerationOptions options,
            Consumer<String> onDelta, Cancellation cancel) {
        int[] body = tokenizer.encode(text, org.llama4j.tokenizer.SpecialTokens.NONE);
        int[] prompt = new int[body.length + 1];
        prompt[0] = tokenizer.bosId();
        System.arraycopy(body, 0, prompt, 1, body.length);
        try (InferenceSession session = model.newSession()) {
            return new Generator(session, tokenizer).generate(prompt, options, onDelta, cancel);
        }
    }

    /** A multi-turn conversation that keeps its KV cache between turns. */
    public Conversation newConversation() {
        return new Conversation(this);
    }

    /** Turns a raw generation into an answer: tool calls parsed (both Llama 4 forms), finish reason mapped. */
    ChatResponse answer(GenerationResult g) {
        ChatResponse.Finish finish = switch (g.finishReason()) {
            case STOP -> ChatResponse.Finish.STOP;
            case LENGTH -> ChatResponse.Finish.LENGTH;
            case CANCELLED -> ChatResponse.Finish.CANCELLED;
        };
        if (g.finishReason() == FinishReason.STOP) {
            // Tool calls are parsed from the raw text including <|python_start|>… markers, which decode as text.
            ToolCallParse parse = ToolCallParser.parse(g.text());
            if (parse instanceof ToolCallParse.Calls calls) {
                return new ChatResponse(calls.content(), calls.calls(), ChatResponse.Finish.TOOL_CALLS, g);
            }
        }
        return new ChatResponse(g.text(), List.of(), finish, g);
    }

    @Override
    public void close() {
        model.close();
    }
}
