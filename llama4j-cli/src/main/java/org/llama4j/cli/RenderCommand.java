package org.llama4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ChatTemplate;
import org.llama4j.chat.Llama4ChatFormat;
import org.llama4j.chat.PromptEncoder;
import org.llama4j.chat.PromptPiece;
import org.llama4j.chat.RenderedPrompt;
import org.llama4j.chat.Segment;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code llama4j render}: shows the exact prompt a conversation becomes for a model. */
@Command(name = "render", mixinStandardHelpOptions = true,
        description = "Render a conversation with the model's chat template (or Meta's built-in Llama 4 format).")
public final class RenderCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "HF model folder, tokenizer_config.json, or .gguf file")
    Path model;

    @Option(names = "--template", description = "a Jinja chat template file (overrides the model's)")
    Path templateFile;

    @Option(names = "--messages", required = true,
            description = "JSON file: an array of messages, or an object with \"messages\" (and optionally \"tools\")")
    Path messagesFile;

    @Option(names = "--tools", description = "JSON file with an array of tool definitions")
    Path toolsFile;

    @Option(names = "--no-generation-prompt", description = "do not end with the assistant header")
    boolean noGenerationPrompt;

    @Option(names = "--template-kwargs", description = "JSON object of extra template variables")
    String templateKwargs;

    @Option(names = "--segments", description = "print one JSON line per segment (template text or content)")
    boolean segments;

    @Option(names = "--ids", description = "print token ids (one JSON array) instead of text; needs the model's"
            + " tokenizer (--model, or --tokenizer)")
    boolean ids;

    @Option(names = "--tokenizer", description = "tokenizer for --ids (tokenizer.model, tokenizer.json, HF folder, GGUF);"
            + " defaults to --model")
    Path tokenizerPath;

    @Option(names = "--builtin", description = "use Meta's built-in Llama 4 format even if the model has a template")
    boolean builtin;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        JsonNode input = readJson(messagesFile);
        JsonNode messages = input.isObject() ? input.path("messages") : input;
        if (!messages.isArray()) {
            throw new IllegalArgumentException(messagesFile + ": expected a JSON array of messages or {\"messages\": [...]}");
        }
        JsonNode tools = toolsFile != null ? readJson(toolsFile) : input.isObject() ? input.get("tools") : null;
        Map<String, Object> kwargs = new LinkedHashMap<>();
        if (templateKwargs != null) {
            JsonNode kw = JSON.readTree(templateKwargs);
            if (!kw.isObject()) {
                throw new IllegalArgumentException("--template-kwargs must be a JSON object");
            }
            kw.properties().forEach(e -> kwargs.put(e.getKey(), e.getValue()));
        }
        Optional<ChatTemplate> template = builtin ? Optional.empty()
                : templateFile != null ? Optional.of(ChatTemplate.of(Files.readString(templateFile)))
                : model != null ? ChatTemplate.forModel(model) : Optional.empty();
        if (template.isEmpty() && templateFile == null && model == null && !builtin) {
            throw new IllegalArgumentException("give --model, --template or --builtin");
        }
        if (template.isPresent()) {
            RenderedPrompt p = template.get().render(messages, tools, !noGenerationPrompt, kwargs);
            if (ids) {
                out.println(Arrays.toString(PromptEncoder.encode(tokenizer(), p)));
            } else if (segments) {
                for (Segment s : p.segments()) {
                    ObjectNode line = JSON.createObjectNode();
                    line.put("kind", s.provenance() == Segment.Provenance.TEMPLATE ? "template" : "content");
                    line.put("text", s.text());
                    out.println(line);
                }
            } else {
                out.print(p.text());
                out.flush();
            }
            return 0;
        }
        if (tools != null && !tools.isNull()) {
            spec.commandLine().getErr().println("note: Meta's built-in format does not print tool definitions");
        }
        List<ChatMessage> list = new ArrayList<>();
        messages.forEach(m -> list.add(ChatMessage.fromJson(m)));
        List<PromptPiece> pieces = new Llama4ChatFormat().encodeDialogPrompt(list);
        if (ids) {
            out.println(Arrays.toString(PromptEncoder.encode(tokenizer(), pieces)));
            out.flush();
            return 0;
        }
        for (PromptPiece piece : pieces) {
            if (segments) {
                ObjectNode line = JSON.createObjectNode();
                switch (piece) {
                    case PromptPiece.SpecialToken s -> line.put("kind", "special").put("text", s.text());
                    case PromptPiece.PlainText t -> line.put("kind", "text").put("text", t.text());
                }
                out.println(line);
            } else {
                out.print(switch (piece) {
                    case PromptPiece.SpecialToken s -> s.text();
                    case PromptPiece.PlainText t -> t.text();
                });
            }
        }
        out.flush();
        return 0;
    }

    private Tokenizer tokenizer() {
        Path source = tokenizerPath != null ? tokenizerPath : model;
        if (source == null) {
            throw new IllegalArgumentException("--ids needs --model or --tokenizer");
        }
        return TokenizerLoader.load(source);
    }

    private static JsonNode readJson(Path p) throws IOException {
        try {
            return JSON.readTree(Files.readString(p));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(p + " is not valid JSON: " + e.getOriginalMessage());
        }
    }
}
