package org.llama4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.tensor.GgmlType;
import org.llama4j.vision.MmprojWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code llama4j convert-mmproj}: an HF Llama 4 folder's vision tower to a llama.cpp mmproj GGUF. */
@Command(name = "convert-mmproj", mixinStandardHelpOptions = true,
        description = "Writes the vision tower and projector of a Hugging Face Llama 4 folder as a llama.cpp mmproj"
                + " GGUF (the file passed with --mmproj), laid out as llama.cpp's converter writes it.")
public final class ConvertMmprojCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A Hugging Face Llama 4 folder.")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The mmproj GGUF to write.")
    Path output;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "BF16",
            description = "Storage of the weight matrices: F32, F16, BF16 (default; lossless for bf16 checkpoints)"
                    + " or Q8_0. Norms, biases and embeddings stay F32, as in llama.cpp's converter.")
    String type;

    @Override
    public Integer call() throws Exception {
        GgmlType weightType = switch (type.toUpperCase(java.util.Locale.ROOT)) {
            case "F32" -> GgmlType.F32;
            case "F16" -> GgmlType.F16;
            case "BF16" -> GgmlType.BF16;
            case "Q8_0" -> GgmlType.Q8_0;
            default -> throw new ParameterException(spec.commandLine(), "--type must be F32, F16, BF16 or Q8_0, not '"
                    + type + "'");
        };
        if (!Files.isDirectory(model)) {
            throw new ParameterException(spec.commandLine(), "--model " + model + " is not a folder (expected a"
                    + " Hugging Face Llama 4 folder with a vision tower)");
        }
        try (HfModelFolder folder = HfModelFolder.open(model)) {
            MmprojWriter.write(folder, output, weightType);
        }
        spec.commandLine().getOut().println("wrote " + output + " (" + Files.size(output) + " bytes, " + weightType
                + " weights)");
        return 0;
    }
}
