package org.llama4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.llama4j.safety.promptguard.PromptGuard;
import org.llama4j.safety.promptguard.PromptGuardResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code llama4j prompt-guard}: scores texts with Llama Prompt Guard 2. */
@Command(
        name = "prompt-guard",
        mixinStandardHelpOptions = true,
        description = {
            "Scores texts for prompt injection and jailbreaks with a Llama Prompt Guard 2 checkpoint.",
            "Long texts are split into 510-token windows; a text's score is its highest window's P(malicious).",
            "Output per text: {\"label\", \"malicious_probability\", \"windows\"} (JSON lines with --jsonl or --json)."
        })
public final class PromptGuardCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face folder: config.json, model.safetensors, spm.model")
    Path model;

    @Option(names = "--threshold", paramLabel = "P", defaultValue = "0.5",
            description = "P(malicious) above which a text is labelled malicious (default: ${DEFAULT-VALUE})")
    double threshold;

    @Option(names = "--jsonl", paramLabel = "FILE",
            description = "Score each line {\"text\": ...} of FILE ('-' for stdin); writes one JSON line per input"
                    + " line, in order (an input \"id\" is copied through)")
    String jsonl;

    @Option(names = "--json", description = "Print the verdict on TEXT as a JSON line")
    boolean json;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Texts to score (each is one text)")
    List<String> texts;

    @Override
    public Integer call() throws IOException {
        boolean haveTexts = texts != null && !texts.isEmpty();
        if (haveTexts == (jsonl != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give either TEXT arguments or --jsonl FILE (exactly one of them)");
        }
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--threshold " + threshold + " is not a probability in [0, 1]");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (PromptGuard guard = PromptGuard.load(model, threshold)) {
            if (haveTexts) {
                for (String text : texts) {
                    PromptGuardResult r = guard.scan(text);
                    if (json) {
                        out.println(JSON.writeValueAsString(verdict(r, null)));
                    } else {
                        out.printf("%s\t%.6f\t%d window%s%n", r.label(), r.maliciousProbability(), r.windows().size(),
                                r.windows().size() == 1 ? "" : "s");
                    }
                }
            } else {
                scanJsonl(guard, out);
            }
        }
        out.flush();
        return 0;
    }

    private void scanJsonl(PromptGuard guard, PrintWriter out) throws IOException {
        boolean stdin = jsonl.equals("-");
        if (!stdin && !Files.isRegularFile(Path.of(jsonl))) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--jsonl " + jsonl + ": no such file");
        }
        try (BufferedReader in = stdin
                ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                : Files.newBufferedReader(Path.of(jsonl), StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue; // blank lines carry no record (e.g. a trailing newline)
                }
                String where = (stdin ? "stdin" : jsonl) + " line " + number;
                JsonNode record;
                try {
                    record = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException(where + ": not valid JSON: " + e.getOriginalMessage());
                }
                if (record == null || !record.isObject() || !record.path("text").isTextual()) {
                    throw new IllegalArgumentException(where + ": expected an object with a string \"text\", found "
                            + abbreviate(line));
                }
                PromptGuardResult r = guard.scan(record.get("text").textValue());
                out.println(JSON.writeValueAsString(verdict(r, record.get("id"))));
                out.flush();
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static ObjectNode verdict(PromptGuardResult r, JsonNode id) {
        ObjectNode o = JSON.createObjectNode();
        if (id != null) {
            o.set("id", id);
        }
        o.put("label", r.label());
        o.put("malicious_probability", r.maliciousProbability());
        o.put("windows", r.windows().size());
        return o;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
