package org.llama4j.safety.guard;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * What the guard decided, parsed fail-closed from the model's answer.
 *
 * @param verdict        safe, unsafe, or error (the answer could not be read)
 * @param categories     the codes the model reported (trimmed, in its order) when unsafe; empty otherwise
 * @param malformedCodes the reported codes that are not S1–S14; they still block
 * @param block          whether the checked content must be stopped: true for unsafe and for error
 * @param pUnsafe        the probability that the answer's first token starts "unsafe", when the logits were seen
 */
public record GuardVerdict(Verdict verdict, List<String> categories, List<String> malformedCodes, boolean block,
                           OptionalDouble pUnsafe) {

    public enum Verdict {
        SAFE, UNSAFE, ERROR;

        /** Lower case, as in JSON. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final String SAFE = "safe";
    private static final String UNSAFE_LINE = "unsafe\n";

    public GuardVerdict {
        Objects.requireNonNull(verdict, "verdict");
        categories = List.copyOf(categories);
        malformedCodes = List.copyOf(malformedCodes);
        Objects.requireNonNull(pUnsafe, "pUnsafe");
        if (block == (verdict == Verdict.SAFE)) {
            throw new IllegalArgumentException("a " + verdict.wireName() + " verdict must "
                    + (block ? "not " : "") + "block");
        }
    }

    public static GuardVerdict safe() {
        return new GuardVerdict(Verdict.SAFE, List.of(), List.of(), false, OptionalDouble.empty());
    }

    public static GuardVerdict error() {
        return new GuardVerdict(Verdict.ERROR, List.of(), List.of(), true, OptionalDouble.empty());
    }

    /** This verdict with the calibrated score attached. */
    public GuardVerdict withPUnsafe(double probability) {
        if (!(probability >= 0 && probability <= 1)) {
            throw new IllegalArgumentException("pUnsafe must be a probability, got " + probability);
        }
        return new GuardVerdict(verdict, categories, malformedCodes, block, OptionalDouble.of(probability));
    }

    /**
     * Parses the model's answer (decoded with special tokens removed, stopped at end of turn). The rule:
     * <ul>
     * <li>Whitespace around the answer is stripped (Python's {@code str.strip()}, as llama-stack).</li>
     * <li>Exactly {@code safe}: safe.</li>
     * <li>{@code unsafe}, a newline, then one line of comma-separated codes: each code trimmed. When every code is
     * valid and excluded, safe (as llama-stack). Otherwise unsafe with the codes; codes outside S1–S14 are also
     * listed as malformed, and the verdict still blocks.</li>
     * <li>Anything else (no codes line, an empty codes line, more lines, other casing, prose, {@code safe} with
     * codes): error, which blocks. An unreadable answer says nothing about safety, so it must not let content
     * through.</li>
     * </ul>
     *
     * @param excluded the effective exclusions ({@link GuardOptions#effectiveExcluded()})
     */
    public static GuardVerdict parse(String answer, Set<HazardCategory> excluded) {
        Objects.requireNonNull(answer, "answer");
        String stripped = PythonWhitespace.strip(answer);
        if (stripped.equals(SAFE)) {
            return safe();
        }
        if (!stripped.startsWith(UNSAFE_LINE)) {
            return error();
        }
        String codesLine = stripped.substring(UNSAFE_LINE.length());
        // llama-stack's re.match(r"^unsafe\n(.*)$"): "." stops at a newline, so the codes are one line, and an empty
        // match is not a violation either (it raises).
        if (codesLine.isEmpty() || codesLine.indexOf('\n') >= 0) {
            return error();
        }
        List<String> codes = new ArrayList<>();
        List<String> malformed = new ArrayList<>();
        boolean allExcluded = true;
        for (String raw : codesLine.split(",", -1)) {
            String code = PythonWhitespace.strip(raw);
            codes.add(code);
            Optional<HazardCategory> category = HazardCategory.fromCode(code);
            if (category.isEmpty()) {
                malformed.add(code);
                allExcluded = false;
            } else if (!excluded.contains(category.get())) {
                allExcluded = false;
            }
        }
        if (allExcluded) {
            return safe();
        }
        return new GuardVerdict(Verdict.UNSAFE, codes, malformed, true, OptionalDouble.empty());
    }
}
