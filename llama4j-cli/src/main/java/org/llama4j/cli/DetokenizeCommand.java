package org.llama4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code llama4j detokenize}: token ids back to text. */
@Command(name = "detokenize", mixinStandardHelpOptions = true,
        description = "Decodes token ids (comma- or space-separated, or a JSON list) to text; bytes that are not"
                + " valid UTF-8 print as U+FFFD.")
public final class DetokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "A GGUF file, a Hugging Face folder, or a bare tokenizer.model / tokenizer.json.")
    Path model;

    @Parameters(arity = "1..*", paramLabel = "IDS", description = "Token ids, e.g. 1,2,3 or \"[1, 2, 3]\".")
    String[] ids;

    @Override
    public Integer call() {
        String joined = String.join(",", ids).replace('[', ' ').replace(']', ' ');
        int[] parsed = java.util.Arrays.stream(joined.split("[,\\s]+")).filter(s -> !s.isEmpty()).mapToInt(s -> {
            try {
                return Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new ParameterException(spec.commandLine(), "expected integer token ids, found '" + s + "'");
            }
        }).toArray();
        Tokenizer tokenizer = TokenizerLoader.load(model);
        for (int id : parsed) {
            if (id < 0 || id >= tokenizer.vocabularySize()) {
                throw new ParameterException(spec.commandLine(), "token id " + id + " is outside the vocabulary [0, "
                        + tokenizer.vocabularySize() + ") of " + model);
            }
        }
        spec.commandLine().getOut().println(tokenizer.decode(parsed));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
