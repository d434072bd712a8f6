package org.llama4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code llama4j tokenize}: text to token ids, as a JSON list (or one JSON object per line of a JSONL file). */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Encodes text to token ids (no BOS/EOS added) and prints them as a JSON list.",
            "With --jsonl, reads lines {\"text\": ..., \"allowed_special\": \"none\"|\"all\"} and prints one"
                + " {\"ids\": [...]} line per input line, in order."})
public final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "A GGUF file, a Hugging Face folder, or a bare tokenizer.model / tokenizer.json.")
    Path model;

    @Option(names = "--special", description = "Parse special-token text such as <|eot|> into its id"
            + " (default: it is plain text).")
    boolean special;

    static final class Input {
        @Parameters(paramLabel = "TEXT", description = "The text to encode.")
        String text;

        @Option(names = "--jsonl", paramLabel = "FILE", description = "Encode every line of this JSONL file.")
        Path jsonl;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Override
    public Integer call() throws IOException {
        Tokenizer tokenizer = TokenizerLoader.load(model);
        PrintWriter out = spec.commandLine().getOut();
        if (input.jsonl == null) {
            out.println(idsJson(tokenizer.encode(input.text, special ? SpecialTokens.ALL : SpecialTokens.NONE)));
        } else {
            encodeJsonl(tokenizer, out);
        }
        out.flush();
        return 0;
    }

    private void encodeJsonl(Tokenizer tokenizer, PrintWriter out) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(input.jsonl, StandardCharsets.UTF_8)) {
            String line;
            int lineNumber = 0;
            while ((line = in.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (com.fasterxml.jackson.core.JacksonException e) {
                    throw bad(lineNumber, "not valid JSON (" + e.getOriginalMessage() + ")");
                }
                if (!node.path("text").isTextual()) {
                    throw bad(lineNumber, "expected a string field \"text\"");
                }
                SpecialTokens mode = switch (node.path("allowed_special").asText("none")) {
                    case "none" -> SpecialTokens.NONE;
                    case "all" -> SpecialTokens.ALL;
                    default -> throw bad(lineNumber, "allowed_special: expected \"none\" or \"all\", found "
                            + node.get("allowed_special"));
                };
                out.println("{\"ids\":" + idsJson(tokenizer.encode(node.get("text").asText(), mode)) + "}");
            }
        }
    }

    private ParameterException bad(int lineNumber, String message) {
        return new ParameterException(spec.commandLine(), input.jsonl + " line " + lineNumber + ": " + message);
    }

    static String idsJson(int[] ids) {
        ArrayNode array = JSON.createArrayNode();
        for (int id : ids) {
            array.add(id);
        }
        return array.toString();
    }
}
