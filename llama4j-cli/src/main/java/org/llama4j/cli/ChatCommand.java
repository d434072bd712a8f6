package org.llama4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.llama4j.api.ChatModel;
import org.llama4j.api.ChatOptions;
import org.llama4j.api.ChatResponse;
import org.llama4j.api.Conversation;
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
            "Commands: /reset clears the history, /exit (or end of input) quits.",
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

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean interactive = System.console() != null;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (ChatModel chat = ModelLoading.withProgress(model, err, !interactive, () -> ChatModel.load(model))) {
            ChatOptions options = ChatOptions.defaults().withMaxTokens(sampling.maxTokens)
                    .withSampling(sampling.options().sampling()).withStop(sampling.stop);
            Conversation conversation = newConversation(chat);
            if (interactive) {
                out.println("llama4j chat: type a message, /reset to start over, /exit to quit.");
            }
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
                if (line.strip().equals("/reset")) {
                    conversation.close();
                    conversation = newConversation(chat);
                    out.println("(history cleared)");
                    out.flush();
                    continue;
                }
                ChatResponse r = conversation.send(line, options, delta -> {
                    out.print(delta);
                    out.flush();
                }, null);
                if (!r.toolCalls().isEmpty()) {
                    r.toolCalls().forEach(c -> out.print("[tool call] " + c.name() + " " + c.arguments()));
                }
                out.println();
                out.flush();
                if (verbose) {
                    GenerateCommand.printSpeed(err, r.generation());
                }
            }
            conversation.close();
        }
        return 0;
    }

    private Conversation newConversation(ChatModel chat) {
        Conversation c = chat.newConversation();
        if (system != null) {
            c.system(system);
        }
        return c;
    }
}
