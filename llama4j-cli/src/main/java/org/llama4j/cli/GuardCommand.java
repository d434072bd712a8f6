package org.llama4j.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.llama4j.model.Llama4Model;
import org.llama4j.safety.guard.CategorySet;
import org.llama4j.safety.guard.GuardJson;
import org.llama4j.safety.guard.GuardMessage;
import org.llama4j.safety.guard.GuardOptions;
import org.llama4j.safety.guard.GuardPrompt;
import org.llama4j.safety.guard.GuardPromptBuilder;
import org.llama4j.safety.guard.GuardResult;
import org.llama4j.safety.guard.HazardCategory;
import org.llama4j.safety.guard.Llama4GuardModel;
import org.llama4j.safety.guard.LlamaGuard;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code llama4j guard}: checks the last message of a conversation with Llama Guard. */
@Command(name = "guard", mixinStandardHelpOptions = true,
        description = {"Checks the last message of a conversation with Llama Guard 4 (or 3) and prints"
                + " {\"verdict\": \"safe\"|\"unsafe\"|\"error\", \"categories\": [...], \"block\": true|false,"
                + " \"p_unsafe\": P(answer starts 'unsafe')}. An answer that cannot be parsed is an error and blocks.",
            "The prompt is llama-stack's Llama Guard prompt in the model's chat format (Llama 4 or Llama 3, from the"
                + " tokenizer), with the conversation encoded as plain text.",
            "--messages: a JSON array of {\"role\": \"user\"|\"assistant\"|\"system\"|\"tool\", \"content\": ...}"
                + " (or an object with \"messages\"); content is a string or a list of text/image parts."})
public final class GuardCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "The Llama Guard model (GGUF file or Hugging Face folder). With --render-only a tokenizer"
                    + " is enough (tokenizer.model / tokenizer.json): Llama 4 vocabulary, Llama 4 format; Llama 3"
                    + " vocabulary, Llama 3 format.")
    Path model;

    @Option(names = "--messages", required = true, paramLabel = "FILE", description = "The conversation (JSON).")
    Path messagesFile;

    static final class Offer {
        @Option(names = "--categories", split = ",", paramLabel = "CODE",
                description = "Categories to offer, in order, e.g. S1,S2,S9.")
        List<String> codes;

        @Option(names = "--category-set", paramLabel = "NAME",
                description = "A default list: model-card (S1-S14, the default), llama-stack-lg4 (S1-S13),"
                        + " lg3-8b (S1-S14), lg3-1b (S1-S13), llama-stack-unknown (S1-S14).")
        String set;
    }

    @ArgGroup(exclusive = true)
    Offer offer;

    @Option(names = "--exclude", split = ",", paramLabel = "CODE",
            description = "Categories to leave out, e.g. S6,S7. Excluding all fourteen excludes none.")
    List<String> exclude = List.of();

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Answer budget (default: ${DEFAULT-VALUE}).")
    int maxNewTokens = GuardOptions.DEFAULT_MAX_NEW_TOKENS;

    @Option(names = "--render-only", description = "Print the guard prompt and stop; no model runs.")
    boolean renderOnly;

    static final class RenderForm {
        @Option(names = "--ids", description = "With --render-only: print the token ids as one JSON list.")
        boolean ids;

        @Option(names = "--rendered", description = "With --render-only: print the whole chat-formatted prompt,"
                + " special tokens written out.")
        boolean rendered;
    }

    @ArgGroup(exclusive = true)
    RenderForm renderForm;

    @Override
    public Integer call() throws IOException {
        if (renderForm != null && !renderOnly) {
            throw new ParameterException(spec.commandLine(), (renderForm.ids ? "--ids" : "--rendered")
                    + " needs --render-only");
        }
        List<GuardMessage> messages = GuardJson.messages(readMessages());
        GuardOptions options = options();
        PrintWriter out = spec.commandLine().getOut();
        if (renderOnly) {
            GuardPrompt prompt = new GuardPromptBuilder(TokenizerLoader.load(model)).build(messages, options);
            if (renderForm != null && renderForm.ids) {
                out.println(TokenizeCommand.idsJson(prompt.ids()));
            } else {
                out.println(renderForm != null && renderForm.rendered ? prompt.rendered() : prompt.text());
            }
        } else {
            out.println(GuardJson.verdict(runModel(messages, options).verdict()));
        }
        out.flush();
        return 0;
    }

    private GuardResult runModel(List<GuardMessage> messages, GuardOptions options) {
        if (Files.isRegularFile(model) && !model.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) {
            throw new ParameterException(spec.commandLine(), model + " is a tokenizer, not a model: running the"
                    + " guard needs the weights (a GGUF file or a Hugging Face folder); --render-only needs only"
                    + " the tokenizer");
        }
        // Llama Guard 4 (Llama 4) and Llama Guard 3 (dense Llama 3) both load here; the prompt format follows the
        // tokenizer's family.
        Tokenizer tokenizer = TokenizerLoader.load(model);
        try (Llama4Model llama = Llama4Model.load(model)) {
            return new LlamaGuard(new Llama4GuardModel(llama), tokenizer).check(messages, options);
        }
    }

    private JsonNode readMessages() throws IOException {
        try {
            return JSON.readTree(Files.readString(messagesFile));
        } catch (NoSuchFileException e) {
            throw new ParameterException(spec.commandLine(), "--messages: no such file " + messagesFile);
        } catch (JacksonException e) {
            throw new ParameterException(spec.commandLine(), "--messages " + messagesFile + ": not valid JSON ("
                    + e.getOriginalMessage() + ")");
        }
    }

    private GuardOptions options() {
        GuardOptions options = GuardOptions.defaults().withMaxNewTokens(maxNewTokens);
        if (offer != null && offer.set != null) {
            options = options.withCategories(CategorySet.fromCliName(offer.set));
        } else if (offer != null) {
            List<HazardCategory> codes = new ArrayList<>();
            for (String code : offer.codes) {
                codes.add(HazardCategory.requireCode(code.strip()));
            }
            options = options.withCategories(codes);
        }
        Set<HazardCategory> excluded = EnumSet.noneOf(HazardCategory.class);
        for (String code : exclude) {
            excluded.add(HazardCategory.requireCode(code.strip()));
        }
        return options.withExcluded(excluded);
    }
}
