package org.llama4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./llama4j}. Each subcommand is its own class in this package. */
@Command(
        name = "llama4j",
        mixinStandardHelpOptions = true,
        version = "llama4j 0.1.0-SNAPSHOT",
        description = "Meta's Llama 4 models on the JVM: inspect, generate, chat, serve, bench.",
        subcommands = {
            CommandLine.HelpCommand.class,
            RenderCommand.class,
            TokenizeCommand.class,
            DetokenizeCommand.class,
            InspectCommand.class,
            GenerateCommand.class,
            ChatCommand.class,
            LogitsCommand.class,
            CreateModelCommand.class,
            PromptGuardCommand.class,
            GuardCommand.class,
            BenchCommand.class,
            ServeCommand.class,
            ConvertMmprojCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Builds the command line; tests drive this instead of {@link #main} so nothing calls System.exit. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            // Errors a user can fix (bad file, bad argument) print one clear line, not a stack trace.
            cmd.getErr().println("error: " + ex.getMessage());
            if (System.getenv("LLAMA4J_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
