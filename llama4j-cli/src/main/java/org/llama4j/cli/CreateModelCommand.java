package org.llama4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.llama4j.model.synthetic.QuantRecipe;
import org.llama4j.model.synthetic.SyntheticModelConfig;
import org.llama4j.model.synthetic.SyntheticModelWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code llama4j create-model}: writes a random-weight Llama 4 GGUF of any shape, for tests and benchmarks. */
@Command(
        name = "create-model",
        mixinStandardHelpOptions = true,
        description = {
            "Writes a random-weight Llama 4 text model as a GGUF that llama4j and llama.cpp load: llama.cpp's",
            "tensor names and keys, a small byte-level BPE tokenizer with the Llama 4 special tokens and the",
            "official chat template. Weights are deterministic per seed and generated tensor by tensor, so",
            "multi-GB models need little memory.",
            "",
            "Presets: tiny (a few MB), tiny-scout, tiny-maverick, scout-bench (Scout-shaped, ~1.3 GB at Q4_K_M),",
            "maverick-bench (Maverick-shaped, ~1.7 GB at Q4_K_M).",
        })
public final class CreateModelCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "PRESET|config.json",
            description = "A preset name or the path of an HF config.json (Llama4ForConditionalGeneration or Llama4ForCausalLM).")
    String config;

    @Option(names = "--type", defaultValue = "bf16", paramLabel = "TYPE",
            description = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k(_s), q3_k_m, q3_k_l, q4_k(_s), "
                    + "q4_k_m, q5_k(_s), q5_k_m, q6_k, iq4_nl, iq4_xs; mixes follow llama.cpp's default recipes "
                    + "(default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed of the weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The GGUF file to write.")
    Path output;

    @Option(names = "--full-vocab",
            description = "Use Llama 4's full vocabulary size (202048: 200000 BPE tokens + 2048 special tokens).")
    boolean fullVocab;

    @Option(names = "--vocab-size", paramLabel = "N", description = "Override the vocabulary size.")
    Integer vocabSize;

    @Option(names = "--name", description = "general.name (default: the preset or config folder name).")
    String name;

    @Option(names = "--threads", description = "Generation threads (default: all processors).")
    Integer threads;

    @Option(names = {"-q", "--quiet"}, description = "No progress output.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        QuantRecipe.FileType fileType = QuantRecipe.FileType.parse(type);
        SyntheticModelConfig model = loadConfig();
        if (fullVocab && vocabSize != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--full-vocab and --vocab-size exclude each other");
        }
        if (fullVocab) {
            model = model.withVocabSize(SyntheticModelConfig.FULL_VOCAB_SIZE);
        } else if (vocabSize != null) {
            model = model.withVocabSize(vocabSize);
        }
        if (name != null) {
            model = model.withName(name);
        }
        SyntheticModelWriter writer = new SyntheticModelWriter(model, fileType, seed);
        if (threads != null) {
            writer.threads(threads);
        }
        if (output.getParent() != null && Files.isDirectory(output)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--output " + output + " is a directory");
        }
        long total = writer.tensorDataBytes();
        if (!quiet) {
            out.printf(Locale.ROOT, "%s: %d layers, hidden %d, %d experts (top-%d), vocab %d, %.2f B weights, %s, seed %d%n",
                    model.name(), model.layerCount(), model.hiddenSize(), model.expertCount(), model.expertsPerToken(),
                    model.vocabSize(), model.parameterCount() / 1e9, fileType.cliName(), seed);
            out.printf(Locale.ROOT, "writing %s (%.1f MB of tensor data)%n", output, total / 1e6);
            out.flush();
            long start = System.nanoTime();
            int[] lastPercent = {-1};
            writer.progress((t, i, n, done, all) -> {
                int percent = (int) (100 * done / Math.max(1, all));
                if (percent / 5 != lastPercent[0] / 5 || i == n - 1) {
                    lastPercent[0] = percent;
                    double seconds = (System.nanoTime() - start) / 1e9;
                    out.printf(Locale.ROOT, "  %3d%%  tensor %d/%d  %.1f s%n", percent, i + 1, n, seconds);
                    out.flush();
                }
            });
        }
        writer.write(output);
        if (!quiet) {
            out.printf(Locale.ROOT, "wrote %s (%d bytes)%n", output, Files.size(output));
        }
        return 0;
    }

    private SyntheticModelConfig loadConfig() {
        if (SyntheticModelConfig.presetNames().contains(config)) {
            return SyntheticModelConfig.preset(config);
        }
        Path path = Path.of(config);
        if (Files.isDirectory(path)) {
            path = path.resolve("config.json");
        }
        if (!Files.isRegularFile(path)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--config '" + config
                    + "' is neither a preset (" + String.join(", ", SyntheticModelConfig.presetNames())
                    + ") nor an existing config.json");
        }
        return SyntheticModelConfig.fromHfConfig(path);
    }
}
