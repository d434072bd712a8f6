package org.llama4j.cli;

import java.util.Locale;
import org.llama4j.kernel.KernelMode;
import org.llama4j.model.LoadOptions;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --activations exact|q8|auto} and {@code --exact}: how the text model's products treat activations.
 * {@code exact} multiplies float activations with exactly decoded weights; {@code q8} quantizes activations to 8 bits
 * for integer dot products with quantized weights, as llama.cpp does; {@code auto} takes, per product, whichever of
 * the two is faster here. Generation ({@code generate}, {@code chat}, {@code serve}, {@code bench}) defaults to
 * {@code auto}, as llama.cpp computes with 8-bit activations; {@code logits}, whose output is compared with
 * references, defaults to {@code exact}, which {@code --exact} selects anywhere.
 */
final class ActivationsMixin {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--activations", paramLabel = "exact|q8|auto", converter = ModeConverter.class,
            description = "exact: float activations, equal to the dequantized references up to float rounding"
                    + " (the default of logits). q8: activations rounded to 8 bits for integer dot products with"
                    + " quantized weights, as llama.cpp computes (float weights stay exact). auto: per product the"
                    + " faster of the two: q8 for Q4_0 and Q4_K matrices in decode and small batches, exact"
                    + " elsewhere (the default of generate, chat, serve and bench). q8 and auto repack each Q4_0 and Q4_K"
                    + " matrix on its first use, into memory the OS cannot evict: for models near the machine's"
                    + " RAM, use --exact.")
    KernelMode activations;

    @Option(names = "--exact", description = "The exact float-activation path; conflicts with --activations q8"
            + " and auto.")
    boolean exact;

    /** The mode asked for; a usage error when {@code --exact} and another {@code --activations} are both given. */
    KernelMode mode() {
        if (exact && activations != null && activations != KernelMode.EXACT) {
            throw new ParameterException(command.commandLine(), "--exact and --activations " + name(activations)
                    + " contradict each other: --exact selects the float-activation path; give only one of them");
        }
        if (exact) {
            return KernelMode.EXACT;
        }
        return activations != null ? activations : defaultMode(command.name());
    }

    /** {@code logits} is compared with references: exact; generation computes as llama.cpp does, 8-bit where faster. */
    static KernelMode defaultMode(String commandName) {
        return commandName.equals("logits") ? KernelMode.EXACT : KernelMode.AUTO;
    }

    /** {@code options} with the mode asked for. */
    LoadOptions applyTo(LoadOptions options) {
        return options.withActivations(mode());
    }

    /** The command-line spelling of {@code mode}, also used in reports ({@code bench --json}). */
    static String name(KernelMode mode) {
        return switch (mode) {
            case EXACT -> "exact";
            case Q8_ACTIVATIONS -> "q8";
            case AUTO -> "auto";
        };
    }

    static final class ModeConverter implements ITypeConverter<KernelMode> {
        @Override
        public KernelMode convert(String value) {
            String v = value.toLowerCase(Locale.ROOT);
            for (KernelMode mode : KernelMode.values()) {
                if (name(mode).equals(v)) {
                    return mode;
                }
            }
            throw new TypeConversionException("unknown activation mode '" + value + "': use exact, q8 or auto");
        }
    }
}
