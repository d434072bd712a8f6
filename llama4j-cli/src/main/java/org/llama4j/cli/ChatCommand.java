package org.llama4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.llama4j.api.ChatModel;
import org.llama4j.api.ChatOptions;
import org.llama4j.api.ChatResponse;
import org.llama4j.api.Conversation;
import org.llama4j.chat.ChatMessage;
import org.llama4j.image.ImageInput;
import org.llama4j.model.LoadOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code llama4j chat}: a multi-turn conversation. Interactive on a terminal; with stdin redirected, every input
 * line is one user turn and each answer is printed on its own line(s), so scripts can drive it.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chats with a model, keeping the conversation (and its KV cache) between turns.",
            "Commands: /image FILE attaches an image (a file or a data: URL) to the next message,"
                + " /reset clears the history, /exit (or end of input) quits.",
            "With stdin redirected, each line is a user message and answers are printed one after another."})
public final class ChatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH", description = "A GGUF file or a Hugging Face folder.")
    Path model;

    @Option(names = "--system", paramLabel = "TEXT", description = "The system message.")
    String system;

    @Option(names = {"-v", "--verbose"}, description = "Print speed after every answer (stderr).")
    boolean verbose;

    @Mixin
    SamplingMixin sampling;

    @Mixin
    ImageOptions images; // --image attaches to the first message

    @Mixin
    QuantizeMixin quantization;

    @Mixin
    ActivationsMixin activations;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        LoadOptions loadOptions = activations.applyTo(quantization.loadOptions());
        boolean interactive = System.console() != null;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (ChatModel chat = ModelLoading.withProgress(model, err, !interactive, () -> ChatModel.load(model,
                images.loadOptions().withWeights(loadOptions)))) {
            ChatOptions options = ChatOptions.defaults().withMaxTokens(sampling.maxTokens)
                    .withSampling(sampling.options().sampling()).withStop(sampling.stop);
            Conversation conversation = newConversation(chat);
            if (interactive) {
                out.println("llama4j chat: type a message, /image FILE to show an image, /reset to start over,"
                        + " /exit to quit.");
            }
            List<ImageInput> attached = new ArrayList<>(images.inputs());
            while (true) {
                if (interactive) {
                    out.print("> ");
                    out.flush();
                }
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                if (line.strip().equals("/image") || line.strip().startsWith("/image ")) {
                    String source = line.strip().substring("/image".length()).strip();
                    try {
                        if (source.isEmpty()) {
                            throw new IllegalArgumentException("usage: /image FILE (a file or a data: URL)");
                        }
                        if (chat.vision().isEmpty()) {
                            throw new IllegalArgumentException("this model has no vision tower: it cannot see images");
                        }
                        ImageInput image = ImageInput.of(source);
                        chat.vision().get().preprocess(image); // reads and decodes now, so a bad file is named at once
                        attached.add(image);
                        err.println("(image attached to the next message: " + image + ")");
                        err.flush();
                    } catch (IllegalArgumentException e) {
                        if (!reportError(err, e, interactive)) {
                            return 1;
                        }
                    }
                    continue;
                }
                if (line.strip().equals("/reset")) {
                    attached.clear();
                    conversation.close();
                    conversation = newConversation(chat);
                    out.println("(history cleared)");
                    out.flush();
                    continue;
                }
                ChatMessage message = attached.isEmpty() ? ChatMessage.user(line)
                        : ChatMessage.userWithImages(line, attached.toArray(ImageInput[]::new));
                attached.clear();
                ChatResponse r;
                try {
                    r = conversation.send(message, options, delta -> {
                        out.print(delta);
                        out.flush();
                    }, null);
                } catch (IllegalArgumentException e) { // e.g. the images do not fit the context
                    if (!reportError(err, e, interactive)) {
                        return 1;
                    }
                    continue;
                }
                if (!r.toolCalls().isEmpty()) {
                    r.toolCalls().forEach(c -> out.print("[tool call] " + c.name() + " " + c.arguments()));
                }
                out.println();
                out.flush();
                if (verbose) {
                    GenerateCommand.printSpeed(err, r.generation(), chat.model().activations());
                    chat.vision().ifPresent(v -> ImageOptions.printStats(err, v));
                }
            }
            conversation.close();
            if (!attached.isEmpty()) {
                err.println("warning: " + attached.size() + " attached image(s) were never sent (no message followed)");
                err.flush();
            }
        }
        return 0;
    }

    /** Prints a turn's error; interactively the chat goes on, a script stops (returns false). */
    private static boolean reportError(PrintWriter err, IllegalArgumentException e, boolean interactive) {
        err.println("error: " + e.getMessage());
        err.flush();
        return interactive;
    }

    private Conversation newConversation(ChatModel chat) {
        Conversation c = chat.newConversation();
        if (system != null) {
            c.system(system);
        }
        return c;
    }
}
