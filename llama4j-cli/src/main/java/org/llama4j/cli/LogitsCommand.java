package org.llama4j.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import org.llama4j.model.InferenceSession;
import org.llama4j.model.Llama4Model;
import org.llama4j.model.LoadOptions;
import org.llama4j.vision.ImageTokens;
import org.llama4j.vision.MultimodalPrompt;
import org.llama4j.vision.VisionTower;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code llama4j logits}: the model's logits for a token sequence, as raw little-endian float32 — a verification
 * and research tool, on the exact float path unless {@code --activations q8} asks for llama.cpp's 8-bit one. The
 * prompt is processed in batches and logits are written as they are produced, so prompts of tens of thousands of
 * tokens need memory for one batch only.
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = {"Writes little-endian float32 logits [n × vocab] for every position of a token sequence,"
                + " or only for --positions (in the order listed), computed on the exact float path"
                + " (--activations q8: with 8-bit activations, as llama.cpp computes).",
            "With --image, the <|patch|> positions of the sequence take the images' embeddings, in order"
                + " (image after image, tile after tile), as Meta's early fusion does."})
public final class LogitsCommand implements Callable<Integer> {
    private static final int BATCH = 512;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH", description = "A GGUF file or a Hugging Face folder.")
    Path model;

    static final class TokensSource {
        @Option(names = "--tokens", paramLabel = "IDS", description = "Comma-separated token ids.")
        String tokens;

        @Option(names = "--tokens-file", paramLabel = "FILE",
                description = "Token ids: int32 little-endian binary, or text with comma/whitespace-separated ids.")
        Path tokensFile;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    TokensSource source;

    @Option(names = "--positions", paramLabel = "P,...", split = ",",
            description = "Only these positions (0-based), in this order.")
    int[] positions;

    @picocli.CommandLine.Mixin
    ImageOptions images;

    @picocli.CommandLine.Mixin
    ActivationsMixin activations;

    @Option(names = {"-v", "--verbose"}, description = "Print the vision encoder's time to stderr.")
    boolean verbose;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "Where to write the logits.")
    Path output;

    @Override
    public Integer call() throws IOException {
        LoadOptions loadOptions = activations.applyTo(LoadOptions.DEFAULTS);
        int[] tokens = source.tokens != null ? parseText(source.tokens, "--tokens") : readTokensFile(source.tokensFile);
        if (tokens.length == 0) {
            throw new ParameterException(spec.commandLine(), "no tokens given");
        }
        if (positions != null) {
            for (int p : positions) {
                if (p < 0 || p >= tokens.length) {
                    throw new ParameterException(spec.commandLine(), "position " + p + " is outside the sequence of "
                            + tokens.length + " tokens");
                }
            }
        }
        PrintWriter err = spec.commandLine().getErr();
        Path tmp = output.resolveSibling(output.getFileName() + ".part");
        if (!images.images.isEmpty() && images.mmproj == null && !VisionTower.present(model)) {
            throw new ParameterException(spec.commandLine(), "--image needs a model with a vision tower (a Hugging"
                    + " Face Llama 4 folder whose config.json has vision_config, or --mmproj); " + model + " has none");
        }
        try (Llama4Model m = ModelLoading.withProgress(model, err, false, () -> Llama4Model.load(model, loadOptions));
                VisionTower tower = images.images.isEmpty() ? null : VisionTower.forModel(model, images.mmproj,
                        images.maxTiles(), m.config().hiddenSize(), () -> imageTokensOf(model));
                InferenceSession session = m.newSession()) {
            int vocab = m.config().vocabSize();
            for (int t : tokens) {
                if (t < 0 || t >= vocab) {
                    throw new ParameterException(spec.commandLine(), "token id " + t + " is outside the vocabulary of "
                            + vocab);
                }
            }
            IntFunction<float[]> fusion = null;
            if (tower != null) {
                MultimodalPrompt filled = tower.fill(tokens, images.inputs());
                fusion = filled::visionEmbeddingAt;
                if (verbose) {
                    ImageOptions.printStats(err, tower);
                }
            }
            boolean[] wanted = new boolean[tokens.length];
            if (positions == null) {
                Arrays.fill(wanted, true);
            } else {
                for (int p : positions) {
                    wanted[p] = true;
                }
            }
            // Listed positions may come in any order: rows are kept until written in the requested order.
            Map<Integer, float[]> pending = new HashMap<>();
            int nextListed = 0;
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                ByteBuffer row = ByteBuffer.allocate(vocab * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int from = 0; from < tokens.length; from += BATCH) {
                    int to = Math.min(tokens.length, from + BATCH);
                    int base = from;
                    float[][] logits = session.ingest(Arrays.copyOfRange(tokens, from, to), p -> wanted[p],
                            fusion);
                    for (int i = 0; i < logits.length; i++) {
                        if (logits[i] == null) {
                            continue;
                        }
                        if (positions == null) {
                            write(out, row, logits[i]);
                        } else {
                            pending.put(base + i, logits[i]);
                        }
                    }
                    while (positions != null && nextListed < positions.length && pending.containsKey(positions[nextListed])) {
                        int p = positions[nextListed++];
                        write(out, row, pending.get(p));
                        if (Arrays.stream(positions, nextListed, positions.length).noneMatch(q -> q == p)) {
                            pending.remove(p);
                        }
                    }
                }
            }
            Files.move(tmp, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return 0;
    }

    /** The image special tokens of the model's tokenizer (needed to lay out mmproj images). */
    private static ImageTokens imageTokensOf(Path model) {
        org.llama4j.tokenizer.Tokenizer tokenizer = org.llama4j.tokenizer.TokenizerLoader.load(model);
        return ImageTokens.byName(name -> tokenizer.specialTokenId(name).orElseThrow(() ->
                new IllegalArgumentException(model + ": the tokenizer has no " + name + " token")));
    }

    private static void write(OutputStream out, ByteBuffer row, float[] logits) throws IOException {
        row.clear();
        row.asFloatBuffer().put(logits);
        out.write(row.array(), 0, logits.length * 4);
    }

    private int[] readTokensFile(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        boolean text = true;
        for (byte b : bytes) {
            if (!(b >= '0' && b <= '9' || b == ',' || b == '[' || b == ']' || Character.isWhitespace(b))) {
                text = false;
                break;
            }
        }
        if (text) {
            return parseText(new String(bytes, java.nio.charset.StandardCharsets.US_ASCII), file.toString());
        }
        if (bytes.length % 4 != 0) {
            throw new ParameterException(spec.commandLine(), file + ": binary token file of " + bytes.length
                    + " bytes is not a whole number of int32 ids");
        }
        int[] ids = new int[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(ids);
        return ids;
    }

    private int[] parseText(String s, String where) {
        String[] parts = s.replace('[', ' ').replace(']', ' ').strip().split("[,\\s]+");
        if (parts.length == 1 && parts[0].isEmpty()) {
            return new int[0];
        }
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new ParameterException(spec.commandLine(), where + ": '" + parts[i] + "' is not a token id");
            }
        }
        return ids;
    }
}
