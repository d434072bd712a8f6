package org.llama4j.server;

import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.llama4j.safety.guard.HazardCategory;

/**
 * The one mapping from Llama Guard's hazard codes to OpenAI moderation category names. Only codes with a real
 * counterpart are mapped; S5 defamation, S6 specialized advice, S7 privacy, S8 intellectual property, S13 elections
 * and S14 code interpreter abuse have none and appear only as raw codes.
 */
final class ModerationCategories {
    /** Every category name of OpenAI's moderation response, in its documented order. */
    static final List<String> OPENAI_NAMES = List.of("harassment", "harassment/threatening", "hate",
            "hate/threatening", "illicit", "illicit/violent", "self-harm", "self-harm/intent",
            "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic");

    private static final Map<HazardCategory, String> TO_OPENAI = new EnumMap<>(Map.of(
            HazardCategory.S1, "violence",
            HazardCategory.S2, "illicit",
            HazardCategory.S3, "sexual",
            HazardCategory.S4, "sexual/minors",
            HazardCategory.S9, "illicit/violent",
            HazardCategory.S10, "hate",
            HazardCategory.S11, "self-harm",
            HazardCategory.S12, "sexual"));

    private ModerationCategories() {
    }

    /** The OpenAI name of a Llama Guard code ({@code S1}..{@code S14}), if it has one. */
    static Optional<String> openAiName(String code) {
        return HazardCategory.fromCode(code).map(TO_OPENAI::get);
    }

    /** The OpenAI names of reported codes, sorted, without repeats; unknown and unmapped codes are skipped. */
    static Set<String> openAiNames(Collection<String> codes) {
        Set<String> names = new TreeSet<>();
        codes.forEach(code -> openAiName(code).ifPresent(names::add));
        return names;
    }
}
