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
 * {@code --activations exact|q8|auto} and {@code --exact}: how the text model's products treat activations. The
 * exact float path is the default; {@code q8} quantizes activations to 8 bits for integer dot products with
 * quantized weights, as llama.cpp does; {@code auto} takes, per product, whichever of the two is faster here.
 * {@code --exact} is the explicit spelling of the default, for scripts that must never run the 8-bit path.
 */
final class ActivationsMixin {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--activations", paramLabel = "exact|q8|auto", converter = ModeConverter.class,
            description = "exact (default): float activations, equal to the dequantized references up to float"
                    + " rounding. q8: activations rounded to 8 bits for integer dot products with quantized"
                    + " weights, as llama.cpp computes (float weights stay exact). auto: per product the faster of"
                    + " the two (today: q8 for Q4_0 matrices in decode and small batches, exact elsewhere). q8 and"
                    + " auto repack Q4_0 matrices at load.")
    KernelMode activations;

    @Option(names = "--exact", description = "The exact float-activation path (the default); conflicts with"
            + " --activations q8.")
    boolean exact;

    /** The mode asked for; a usage error when {@code --exact} and {@code --activations q8} are both given. */
    KernelMode mode() {
        if (exact && activations != null && activations != KernelMode.EXACT) {
            throw new ParameterException(command.commandLine(), "--exact and --activations " + name(activations)
                    + " contradict each other: --exact selects the float-activation path; give only one of them");
        }
        return activations == null ? KernelMode.EXACT : activations;
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
