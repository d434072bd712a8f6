package org.llama4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ChatTemplate;
import org.llama4j.chat.ChatTemplateException;
import org.llama4j.chat.Llama4ChatFormat;
import org.llama4j.chat.PromptEncoder;
import org.llama4j.chat.jinja.TemplateException;
import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;

/**
 * Turns requests into prompt token ids. Chats go through the model's own chat template (tools passed as the
 * OpenAI {@code tools} list) into provenance segments, which {@link PromptEncoder} encodes with message content
 * always as plain text, so a client typing {@code <|eot|>} never ends a turn. A model without a template gets
 * Meta's built-in Llama 4 format ({@link Llama4ChatFormat}), which has no place for tool definitions.
 */
final class ChatPrompts {
    private final Tokenizer tokenizer;
    private final Optional<ChatTemplate> template;

    ChatPrompts(Tokenizer tokenizer, Optional<ChatTemplate> template) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.template = Objects.requireNonNull(template, "template");
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
        if (template.isPresent()) {
            try {
                return PromptEncoder.encode(tokenizer, template.get().render(conversation, tools, true, null));
            } catch (ChatTemplateException e) {
                // The template's raise_exception: the conversation breaks the model's rules (e.g. role order).
                throw ApiException.invalidRequest("the model's chat template rejected the messages: "
                        + e.getMessage(), "messages");
            } catch (TemplateException e) {
                throw new ApiException(500, "server_error", "the model's chat template failed: " + e.getMessage(),
                        null, "chat_template_error");
            }
        }
        if (tools != null) {
            throw ApiException.invalidRequest("this model ships no chat template, and Meta's built-in format has no"
                    + " place for tool definitions: describe the tools in a system message instead", "tools");
        }
        return PromptEncoder.encode(tokenizer, new Llama4ChatFormat().encodeDialogPrompt(conversation));
    }

    /** The prompt of /v1/completions: begin-of-text, then the text as plain text (never parsed for specials). */
    int[] completion(String prompt) {
        int[] body = tokenizer.encode(prompt, SpecialTokens.NONE);
        int[] ids = new int[body.length + 1];
        ids[0] = tokenizer.bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
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
