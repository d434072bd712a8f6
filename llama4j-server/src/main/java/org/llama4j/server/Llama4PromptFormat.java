package org.llama4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.List;
import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;

/**
 * Renders a chat in Meta's Llama 4 format (as the model's Hugging Face chat template does, tools in the first
 * user message) straight to token ids. Template text is encoded with special tokens parsed; message content is
 * always encoded as plain text, so {@code <|eot|>} typed by a client stays text and never ends a turn.
 *
 * <p>Interim: once {@code org.llama4j.chat} lands, the server renders the model's own Jinja template into
 * segments and encodes them the same way.
 */
final class Llama4PromptFormat {
    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Tokenizer tokenizer;

    Llama4PromptFormat(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * @param tools            the request's tool definitions (OpenAI shape), or null
     * @param extraInstruction appended to the system message (e.g. to ask for JSON), or null
     */
    int[] render(List<ChatMessage> messages, JsonNode tools, String extraInstruction) {
        Pieces out = new Pieces();
        out.template("<|begin_of_text|>");
        List<ChatMessage> rest = new ArrayList<>(messages);
        String system = null;
        if (!rest.isEmpty() && rest.get(0).role().equals("system")) {
            system = rest.remove(0).content().strip();
        }
        if (extraInstruction != null) {
            system = system == null || system.isEmpty() ? extraInstruction : system + "\n\n" + extraInstruction;
        }
        if (system != null) {
            out.template("<|header_start|>system<|header_end|>\n\n");
            if (tools != null) {
                out.template("Environment: ipython\n");
            }
            out.content(system);
            out.template("<|eot|>");
        }
        if (tools != null) {
            if (rest.isEmpty() || !rest.get(0).role().equals("user")) {
                throw ApiException.invalidRequest("with tools, the first message after the system message must be"
                        + " a user message", "messages");
            }
            String firstUser = rest.remove(0).content().strip();
            out.template("<|header_start|>user<|header_end|>\n\n");
            out.template("Given the following functions, please respond with a JSON for a function call with its"
                    + " proper arguments that best answers the given prompt.\n\n"
                    + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name"
                    + " and its value}.Do not use variables.\n\n");
            for (JsonNode tool : tools) {
                out.content(pretty(tool) + "\n\n");
            }
            out.content(firstUser);
            out.template("<|eot|>");
        }
        for (ChatMessage m : rest) {
            switch (m.role()) {
                case "tool" -> {
                    out.template("<|header_start|>ipython<|header_end|>\n\n");
                    out.content(m.content());
                    out.template("<|eot|>");
                }
                case "assistant" -> {
                    out.template("<|header_start|>assistant<|header_end|>\n\n");
                    if (m.toolCalls().isEmpty()) {
                        out.content(m.content());
                    } else {
                        out.template("<|python_start|>");
                        out.content(m.content());
                        out.template("<|python_end|>");
                        for (ChatMessage.ToolCall call : m.toolCalls()) {
                            out.content("{\"name\": " + quote(call.name()) + ", \"parameters\": "
                                    + call.argumentsJson() + "}");
                        }
                    }
                    out.template("<|eot|>");
                }
                default -> {
                    out.template("<|header_start|>" + m.role() + "<|header_end|>\n\n");
                    out.content(m.content());
                    out.template("<|eot|>");
                }
            }
        }
        out.template("<|header_start|>assistant<|header_end|>\n\n");
        return out.ids();
    }

    /** Plain prompt of /v1/completions: begin-of-text, then the text, never parsing special tokens. */
    int[] renderCompletion(String prompt) {
        Pieces out = new Pieces();
        out.template("<|begin_of_text|>");
        out.content(prompt);
        return out.ids();
    }

    private static String pretty(JsonNode node) {
        try {
            return PRETTY.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private final class Pieces {
        private int[] ids = new int[64];
        private int size;

        /** Template text: special tokens the tokenizer knows become control tokens. */
        void template(String text) {
            add(tokenizer.encode(text, SpecialTokens.ALL));
        }

        /** Client text: encoded as plain text whatever it contains. */
        void content(String text) {
            if (!text.isEmpty()) {
                add(tokenizer.encode(text, SpecialTokens.NONE));
            }
        }

        private void add(int[] more) {
            if (size + more.length > ids.length) {
                ids = java.util.Arrays.copyOf(ids, Math.max(ids.length * 2, size + more.length));
            }
            System.arraycopy(more, 0, ids, size, more.length);
            size += more.length;
        }

        int[] ids() {
            return java.util.Arrays.copyOf(ids, size);
        }
    }
}
