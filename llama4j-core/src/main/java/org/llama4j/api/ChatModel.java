package org.llama4j.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ChatTemplate;
import org.llama4j.chat.PromptEncoder;
import org.llama4j.format.ModelFormatException;
import org.llama4j.chat.ToolCallParse;
import org.llama4j.chat.ToolCallParser;
import org.llama4j.generate.Cancellation;
import org.llama4j.generate.FinishReason;
import org.llama4j.generate.GenerationResult;
import org.llama4j.generate.Generator;
import org.llama4j.image.ImageInput;
import org.llama4j.model.InferenceSession;
import org.llama4j.model.Llama4Config;
import org.llama4j.model.Llama4Model;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;
import org.llama4j.vision.ImageTokens;
import org.llama4j.vision.MultimodalPrompt;
import org.llama4j.vision.VisionTower;

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
    private final VisionTower vision; // null: text only

    ChatModel(Llama4Model model, Tokenizer tokenizer, ChatTemplate template, VisionTower vision) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
        this.vision = vision;
    }

    /** Loads weights, tokenizer, chat template and, where the checkpoint has one, the vision tower. */
    public static ChatModel load(Path path) {
        return load(path, LoadOptions.defaults());
    }

    /**
     * Loads weights, tokenizer and chat template (the model's own, else Meta's built-in format), and the vision
     * tower: the checkpoint's own (a Hugging Face folder whose config has {@code vision_config}) or
     * {@link LoadOptions#mmproj()}.
     */
    public static ChatModel load(Path path, LoadOptions options) {
        Tokenizer tokenizer = TokenizerLoader.load(path);
        Optional<ChatTemplate> template;
        try {
            template = ChatTemplate.forModel(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Llama4Model model = Llama4Model.load(path, options.weights());
        try {
            VisionTower vision = VisionTower.forModel(path, options.mmproj(), options.maxImageTilesOverride(),
                    model.config().hiddenSize(), () -> ImageTokens.byName(name -> tokenizer.specialTokenId(name)
                            .orElseThrow(() -> new ModelFormatException(path + ": the tokenizer has no " + name
                                    + " token, so the model cannot take images"))));
            return new ChatModel(model, tokenizer, template.orElse(null), vision);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
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

    /** The vision tower, when the model can see images. */
    public Optional<VisionTower> vision() {
        return Optional.ofNullable(vision);
    }

    /**
     * The model input for a conversation: the prompt's token ids, ending with the assistant header, with every
     * image content part laid out as Meta's chat format does, and the images' patch embeddings.
     *
     * @throws IllegalArgumentException when messages hold images and the model has no vision tower, or the
     *         prompt with its images does not fit the context
     * @throws org.llama4j.image.ImageLoadException when an image cannot be read or decoded
     */
    public MultimodalPrompt prompt(List<ChatMessage> messages, ChatOptions options) {
        return prompt(messages, options, null);
    }

    MultimodalPrompt prompt(List<ChatMessage> messages, ChatOptions options,
            Map<ImageInput, VisionTower.EncodedImage> memo) {
        List<ImageInput> images = new ArrayList<>();
        List<ChatMessage> withPlaceholders = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            images.addAll(m.images(true));
            withPlaceholders.add(m.withImagePlaceholders());
        }
        if (images.isEmpty()) {
            return MultimodalPrompt.textOnly(promptTokens(messages, options));
        }
        if (vision == null) {
            throw new IllegalArgumentException("the conversation holds " + images.size() + " image(s) but this model"
                    + " has no vision tower: use a Llama 4 checkpoint whose config.json has vision_config, or give"
                    + " the model's mmproj file");
        }
        return vision.prompt(promptTokens(withPlaceholders, options), images, config().contextLength(), memo);
    }

    /**
     * The token ids of a conversation prompt ending with the assistant header. Message content is always encoded
     * as plain text: special-token text a user typed never becomes a control token. Each image content part
     * becomes one {@code <|image|>} placeholder ({@link #prompt} lays the images out).
     */
    public int[] promptTokens(List<ChatMessage> messages, ChatOptions options) {
        return PromptEncoder.encodeConversation(tokenizer, template, messages, options.tools(),
                options.templateKwargs());
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
        MultimodalPrompt prompt = prompt(messages, options);
        try (InferenceSession session = model.newSession()) {
            GenerationResult g = new Generator(session, tokenizer).generate(prompt.tokens(), fusion(prompt),
                    options.generation(), onDelta, cancel);
            return answer(g);
        }
    }

    /** Plain completion of {@code text} (no chat format): BOS, then the text as plain text. */
    public GenerationResult complete(String text, org.llama4j.generate.GenerationOptions options,
            Consumer<String> onDelta, Cancellation cancel) {
        int[] prompt = PromptEncoder.encodeCompletion(tokenizer, text);
        try (InferenceSession session = model.newSession()) {
            return new Generator(session, tokenizer).generate(prompt, options, onDelta, cancel);
        }
    }

    /** The prefill's input-embedding override: the patch rows of an image prompt, none for text. */
    static IntFunction<float[]> fusion(MultimodalPrompt prompt) {
        return prompt.hasImages() ? prompt::visionEmbeddingAt : null;
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
        try {
            model.close();
        } finally {
            if (vision != null) {
                vision.close();
            }
        }
    }
}
