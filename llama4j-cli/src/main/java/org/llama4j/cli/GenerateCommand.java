package org.llama4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.llama4j.api.ChatModel;
import org.llama4j.api.ChatOptions;
import org.llama4j.api.ChatResponse;
import org.llama4j.chat.ChatMessage;
import org.llama4j.generate.GenerationResult;
import org.llama4j.image.ImageInput;
import org.llama4j.kernel.KernelMode;
import org.llama4j.model.LoadOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code llama4j generate}: one answer to one prompt, streamed to stdout. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generates text for a prompt and streams it to stdout.",
            "By default the prompt is sent as a user message through the model's chat template (instruct models);"
                + " --raw continues the text as is.",
            "--image shows images to a model with a vision tower (they come before the prompt text)."})
public final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH", description = "A GGUF file or a Hugging Face folder.")
    Path model;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "The prompt.")
    String prompt;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system message (chat mode only).")
    String system;

    @Option(names = "--raw", description = "Plain text completion: no chat template.")
    boolean raw;

    @Option(names = {"-v", "--verbose"}, description = "Print prompt-processing and generation speed to stderr.")
    boolean verbose;

    @Mixin
    SamplingMixin sampling;

    @Mixin
    ImageOptions images;

    @Mixin
    QuantizeMixin quantization;

    @Mixin
    ActivationsMixin activations;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (raw && !images.images.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--image needs the chat format: drop --raw");
        }
        LoadOptions loadOptions = activations.applyTo(quantization.loadOptions());
        try (ChatModel chat = ModelLoading.withProgress(model, err, false,
                () -> ChatModel.load(model, images.loadOptions().withWeights(loadOptions)))) {
            GenerationResult g;
            if (raw) {
                g = chat.complete(prompt, sampling.options(), delta -> {
                    out.print(delta);
                    out.flush();
                }, null);
            } else {
                ChatMessage user = images.images.isEmpty() ? ChatMessage.user(prompt)
                        : ChatMessage.userWithImages(prompt, images.inputs().toArray(ImageInput[]::new));
                List<ChatMessage> messages = system == null ? List.of(user) : List.of(ChatMessage.system(system), user);
                ChatOptions options = ChatOptions.defaults().withMaxTokens(sampling.maxTokens)
                        .withSampling(sampling.options().sampling()).withStop(sampling.stop);
                ChatResponse r = chat.chat(messages, options, delta -> {
                    out.print(delta);
                    out.flush();
                });
                g = r.generation();
            }
            out.println();
            out.flush();
            if (verbose) {
                printSpeed(err, g, chat.model().activations());
                chat.vision().ifPresent(v -> ImageOptions.printStats(err, v));
            }
        }
        return 0;
    }

    /** The speed line of {@code --verbose}, with the activation mode it was measured in. */
    static void printSpeed(PrintWriter err, GenerationResult g, KernelMode activations) {
        err.printf(Locale.ROOT, "prompt: %d tokens, %.1f tokens/s | generated: %d tokens, %.1f tokens/s | %s"
                        + " | %s activations%n",
                g.promptTokens(), g.prefillTokensPerSecond(), g.completionTokens(), g.decodeTokensPerSecond(),
                g.finishReason().name().toLowerCase(Locale.ROOT), ActivationsMixin.name(activations));
        err.flush();
    }
}
