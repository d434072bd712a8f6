package org.llama4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ChatTemplate;
import org.llama4j.chat.ChatTemplateException;
import org.llama4j.chat.Llama4ChatFormat;
import org.llama4j.chat.PromptEncoder;
import org.llama4j.chat.jinja.TemplateException;
import org.llama4j.image.ImageInput;
import org.llama4j.image.ImageLoadException;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.vision.MultimodalPrompt;
import org.llama4j.vision.VisionTower;

/**
 * Turns requests into prompt token ids. Chats go through the model's own chat template (tools passed as the
 * OpenAI {@code tools} list) into provenance segments, which {@link PromptEncoder} encodes with message content
 * always as plain text, so a client typing {@code <|eot|>} never ends a turn. A model without a template gets
 * Meta's built-in Llama 4 format ({@link Llama4ChatFormat}), which has no place for tool definitions.
 *
 * <p>Images go through the library's one image path, as {@link org.llama4j.api.ChatModel#prompt} does: each image
 * part is rendered as an {@code <|image|>} placeholder, and the model's {@link VisionTower} decodes, tiles and
 * encodes the images and lays them out in Meta's format ({@link VisionTower#prompt}), checking the slot's context
 * before any encoder work. Encoding runs on the request's own thread, one image prompt at a time.
 */
final class ChatPrompts {
    private final Tokenizer tokenizer;
    private final Optional<ChatTemplate> template;
    private final VisionTower vision; // null: text only
    private final int contextSize;
    /** The vision encoder already uses every core for one image: encoding prompts one after another is as fast. */
    private final Semaphore encoding = new Semaphore(1, true);

    ChatPrompts(Tokenizer tokenizer, Optional<ChatTemplate> template) {
        this(tokenizer, template, null, Integer.MAX_VALUE);
    }

    /**
     * @param vision      the model's vision tower, or null for a text-only model (image parts are refused)
     * @param contextSize tokens one slot holds: a prompt with its images must leave room for one generated token
     */
    ChatPrompts(Tokenizer tokenizer, Optional<ChatTemplate> template, VisionTower vision, int contextSize) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.template = Objects.requireNonNull(template, "template");
        this.vision = vision;
        this.contextSize = contextSize;
    }

    boolean hasVision() {
        return vision != null;
    }

    /**
     * The prompt of a chat with its images laid out and encoded; a text-only prompt when there are none.
     *
     * @throws ApiException 400 for images to a model without a vision tower, an image that cannot be decoded, or
     *                      images that do not fit the slot's context; see also {@link #chat}
     */
    MultimodalPrompt multimodalChat(List<ChatMessage> messages, JsonNode tools, String instruction) {
        List<ImageInput> images = ChatMessages.images(messages);
        if (images.isEmpty()) {
            return MultimodalPrompt.textOnly(chat(messages, tools, instruction));
        }
        if (vision == null) {
            throw ApiException.invalidRequest("the messages hold " + images.size() + " image(s) but this model has"
                    + " no vision tower: serve a Llama 4 checkpoint whose config.json has vision_config, or give"
                    + " the GGUF model's vision tower with --mmproj", "messages", "images_not_supported");
        }
        int[] withPlaceholders = chat(messages.stream().map(ChatMessage::withImagePlaceholders).toList(), tools,
                instruction);
        try {
            encoding.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", "interrupted while waiting for the vision encoder", null,
                    null);
        }
        try {
            return vision.prompt(withPlaceholders, images, contextSize, null);
        } catch (ImageLoadException e) {
            throw ApiException.invalidRequest("an image could not be read: " + e.getMessage(), "messages",
                    "invalid_image");
        } catch (IllegalArgumentException e) {
            // VisionTower checks the context before any encoder work; its message says what the images need.
            boolean context = String.valueOf(e.getMessage()).contains("the context holds");
            throw ApiException.invalidRequest(e.getMessage(), "messages",
                    context ? "context_length_exceeded" : "invalid_image");
        } finally {
            encoding.release();
        }
    }

    /**
     * @param tools       the request's tool definitions (OpenAI shape), or null
     * @param instruction appended to the system message (creating one when there is none), e.g. to ask for JSON;
     *                    null for none
     * @throws ApiException 400 when the template rejects the conversation, or tools are given to a model without
     *                      a template
     */
    int[] chat(List<ChatMessage> messages, JsonNode tools, String instruction) {
        List<ChatMessage> conversation = withInstruction(messages, instruction);
        if (template.isEmpty() && tools != null) {
            throw ApiException.invalidRequest("this model ships no chat template, and Meta's built-in format has no"
                    + " place for tool definitions: describe the tools in a system message instead", "tools");
        }
        try {
            return PromptEncoder.encodeConversation(tokenizer, template.orElse(null), conversation, tools, null);
        } catch (ChatTemplateException e) {
            // The template's raise_exception: the conversation breaks the model's rules (e.g. role order).
            throw ApiException.invalidRequest("the model's chat template rejected the messages: "
                    + e.getMessage(), "messages");
        } catch (TemplateException e) {
            throw new ApiException(500, "server_error", "the model's chat template failed: " + e.getMessage(),
                    null, "chat_template_error");
        }
    }

    /** The prompt of /v1/completions: begin-of-text, then the text as plain text (never parsed for specials). */
    int[] completion(String prompt) {
        return PromptEncoder.encodeCompletion(tokenizer, prompt);
    }

    private static List<ChatMessage> withInstruction(List<ChatMessage> messages, String instruction) {
        if (instruction == null) {
            return messages;
        }
        List<ChatMessage> out = new ArrayList<>(messages);
        if (!out.isEmpty() && out.getFirst().role().equals("system")) {
            String system = out.getFirst().content().asText().strip();
            out.set(0, ChatMessage.system(system.isEmpty() ? instruction : system + "\n\n" + instruction));
        } else {
            out.addFirst(new ChatMessage("system", TextNode.valueOf(instruction), List.of()));
        }
        return out;
    }
}
