package org.llama4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.llama4j.chat.jinja.JStr;
import org.llama4j.chat.jinja.JinjaCallable;
import org.llama4j.chat.jinja.Template;
import org.llama4j.chat.jinja.TemplateLimits;
import org.llama4j.chat.jinja.TemplateRaisedException;
import org.llama4j.chat.jinja.Values;
import org.llama4j.format.ModelFormatException;

/**
 * A Hugging Face chat template, rendered the way transformers' {@code apply_chat_template} does (trim_blocks,
 * lstrip_blocks, Python {@code json.dumps} tojson, {@code raise_exception}, {@code strftime_now}), with the
 * provenance of every output character kept so that message content is never parsed for special tokens.
 * Immutable and thread safe.
 */
public final class ChatTemplate {
    /** The special-token strings templates receive as {@code bos_token}, {@code eos_token}, {@code pad_token}. */
    public record TokenStrings(String bos, String eos, String pad) {
        public static final TokenStrings LLAMA4 = new TokenStrings("<|begin_of_text|>", "<|eot|>",
                "<|finetune_right_pad|>");
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Template template;
    private final TokenStrings tokens;
    private final Clock clock;
    private final TemplateLimits limits;

    private ChatTemplate(Template template, TokenStrings tokens, Clock clock, TemplateLimits limits) {
        this.template = template;
        this.tokens = tokens;
        this.clock = clock;
        this.limits = limits;
    }

    /** Parses a template with Llama 4's token strings. @throws org.llama4j.chat.jinja.TemplateSyntaxException */
    public static ChatTemplate of(String jinjaSource) {
        return of(jinjaSource, TokenStrings.LLAMA4);
    }

    public static ChatTemplate of(String jinjaSource, TokenStrings tokens) {
        return new ChatTemplate(Template.parse(jinjaSource), Objects.requireNonNull(tokens), Clock.systemDefaultZone(),
                TemplateLimits.DEFAULT);
    }

    /**
     * Reads {@code chat_template} and the bos/eos/pad token strings from a Hugging Face
     * {@code tokenizer_config.json}.
     */
    public static ChatTemplate fromTokenizerConfig(Path tokenizerConfig) throws IOException {
        return fromTokenizerConfig(readJson(tokenizerConfig), tokenizerConfig.toString());
    }

    static ChatTemplate fromTokenizerConfig(JsonNode config, String origin) {
        JsonNode ct = config.path("chat_template");
        String source = null;
        if (ct.isTextual()) {
            source = ct.textValue();
        } else if (ct.isArray()) { // [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
            for (JsonNode named : ct) {
                if ("default".equals(named.path("name").asText())) {
                    source = named.path("template").asText();
                }
            }
        }
        if (source == null) {
            throw new ModelFormatException(origin + " has no chat_template");
        }
        TokenStrings tokens = new TokenStrings(tokenText(config.path("bos_token")), tokenText(config.path("eos_token")),
                tokenText(config.path("pad_token")));
        return of(source, tokens);
    }

    /**
     * The chat template a model ships, if any: from a Hugging Face folder ({@code chat_template.jinja} or
     * {@code tokenizer_config.json}'s {@code chat_template}, token strings from the config), a
     * {@code tokenizer_config.json} file, or a GGUF file's {@code tokenizer.chat_template}. Empty when the model
     * has none (a bare {@code tokenizer.model}): use {@link Llama4ChatFormat}.
     */
    public static java.util.Optional<ChatTemplate> forModel(Path model) throws IOException {
        if (Files.isDirectory(model)) {
            Path config = model.resolve("tokenizer_config.json");
            Path jinja = model.resolve("chat_template.jinja");
            JsonNode cfg = Files.exists(config) ? readJson(config) : JsonNodeFactory.instance.objectNode();
            TokenStrings tokens = Files.exists(config) ? new TokenStrings(tokenText(cfg.path("bos_token")),
                    tokenText(cfg.path("eos_token")), tokenText(cfg.path("pad_token"))) : TokenStrings.LLAMA4;
            if (Files.exists(jinja)) {
                return java.util.Optional.of(of(Files.readString(jinja), tokens));
            }
            return cfg.has("chat_template") ? java.util.Optional.of(fromTokenizerConfig(cfg, config.toString()))
                    : java.util.Optional.empty();
        }
        String name = model.getFileName().toString();
        if (name.endsWith(".gguf")) {
            try (var gguf = org.llama4j.format.gguf.GgufFile.open(model)) {
                var source = gguf.find("tokenizer.chat_template");
                if (source.isEmpty()) {
                    return java.util.Optional.empty();
                }
                String[] vocab = gguf.find("tokenizer.ggml.tokens").isPresent()
                        ? gguf.getStringArray("tokenizer.ggml.tokens") : new String[0];
                TokenStrings tokens = new TokenStrings(ggufToken(gguf, vocab, "tokenizer.ggml.bos_token_id"),
                        ggufToken(gguf, vocab, "tokenizer.ggml.eos_token_id"),
                        ggufToken(gguf, vocab, "tokenizer.ggml.padding_token_id"));
                return java.util.Optional.of(of(gguf.getString("tokenizer.chat_template"), tokens));
            }
        }
        if (name.endsWith(".json")) {
            JsonNode cfg = readJson(model);
            return cfg.has("chat_template") ? java.util.Optional.of(fromTokenizerConfig(cfg, model.toString()))
                    : java.util.Optional.empty();
        }
        return java.util.Optional.empty();
    }

    private static String ggufToken(org.llama4j.format.gguf.GgufFile gguf, String[] vocab, String key) {
        if (gguf.find(key).isEmpty()) {
            return "";
        }
        long id = gguf.getLong(key);
        return id >= 0 && id < vocab.length ? vocab[(int) id] : "";
    }

    private static JsonNode readJson(Path p) throws IOException {
        try {
            return JSON.readTree(Files.readString(p));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFormatException(p + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static String tokenText(JsonNode n) {
        if (n.isTextual()) {
            return n.textValue();
        }
        return n.path("content").isTextual() ? n.path("content").textValue() : "";
    }

    /** The clock {@code strftime_now} reads (tests pin it). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(template, tokens, Objects.requireNonNull(clock), limits);
    }

    public ChatTemplate withLimits(TemplateLimits limits) {
        return new ChatTemplate(template, tokens, clock, Objects.requireNonNull(limits));
    }

    public TokenStrings tokens() {
        return tokens;
    }

    public RenderedPrompt render(List<ChatMessage> messages, JsonNode tools, boolean addGenerationPrompt,
            Map<String, Object> extraKwargs) {
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        messages.forEach(m -> array.add(m.toJson()));
        return render(array, tools, addGenerationPrompt, extraKwargs);
    }

    /**
     * @param messages            JSON array of message objects (HF/OpenAI shape)
     * @param tools               JSON array of tool definitions, or null/JSON null for none
     * @param addGenerationPrompt whether to end with the assistant header
     * @param extraKwargs         template kwargs such as {@code tools_in_user_message} or {@code documents};
     *                            their strings count as content
     * @throws ChatTemplateException when the template calls {@code raise_exception}
     * @throws org.llama4j.chat.jinja.TemplateException on other template errors (with line and column)
     */
    public RenderedPrompt render(JsonNode messages, JsonNode tools, boolean addGenerationPrompt,
            Map<String, Object> extraKwargs) {
        if (messages == null || !messages.isArray()) {
            throw new IllegalArgumentException("messages must be a JSON array");
        }
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", Values.fromJson(messages, true));
        vars.put("tools", tools == null || tools.isNull() ? null : Values.fromJson(tools, true));
        vars.put("documents", null);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", JStr.template(tokens.bos()));
        vars.put("eos_token", JStr.template(tokens.eos()));
        vars.put("pad_token", JStr.template(tokens.pad()));
        vars.put("strftime_now", (JinjaCallable) (args, kwargs) -> {
            if (args.size() != 1 || !(args.getFirst() instanceof JStr format)) {
                throw new IllegalArgumentException("strftime_now(format) takes one string");
            }
            return JStr.template(Strftime.format(format.text(), ZonedDateTime.now(clock)));
        });
        if (extraKwargs != null) {
            extraKwargs.forEach((k, v) -> vars.put(k, Values.fromJava(v, true)));
        }
        try {
            return RenderedPrompt.of(template.render(vars, limits));
        } catch (TemplateRaisedException e) {
            throw new ChatTemplateException(e.getMessage(), e);
        }
    }
}
