package org.llama4j.safety.guard;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The category lists a guard prompt may offer by default. Sources disagree for Llama Guard 4, so the choice is
 * explicit: the model card lists S1–S14 ({@link #MODEL_CARD}, llama4j's default), while llama-stack sends
 * S1–S13 ({@link #LLAMA_STACK_LLAMA_GUARD_4}, what the fixtures' Llama Guard 4 goldens use).
 */
public enum CategorySet {
    /** The Llama Guard 4 model card taxonomy, S1–S14. The default. */
    MODEL_CARD("model-card", HazardCategory.S14),
    /** llama-stack's list for {@code Llama-Guard-4-12B} (and 3-11B-Vision): S1–S13. */
    LLAMA_STACK_LLAMA_GUARD_4("llama-stack-lg4", HazardCategory.S13),
    /** llama-stack's list for {@code Llama-Guard-3-8B}: S1–S14. */
    LLAMA_GUARD_3_8B("lg3-8b", HazardCategory.S14),
    /** llama-stack's list for {@code Llama-Guard-3-1B}: S1–S13. */
    LLAMA_GUARD_3_1B("lg3-1b", HazardCategory.S13),
    /** llama-stack's list for a model id it does not know: S1–S14. */
    LLAMA_STACK_UNKNOWN_MODEL("llama-stack-unknown", HazardCategory.S14);

    private final String cliName;
    private final List<HazardCategory> categories;

    CategorySet(String cliName, HazardCategory last) {
        this.cliName = cliName;
        this.categories = List.copyOf(EnumSet.range(HazardCategory.S1, last));
    }

    /** The categories in prompt order. */
    public List<HazardCategory> categories() {
        return categories;
    }

    /** The short name used on the command line, e.g. {@code llama-stack-lg4}. */
    public String cliName() {
        return cliName;
    }

    public static CategorySet fromCliName(String name) {
        for (CategorySet s : values()) {
            if (s.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new GuardInputException("unknown category set '" + name + "': expected one of "
                + Arrays.stream(values()).map(CategorySet::cliName).collect(Collectors.joining(", ")));
    }

    /**
     * What llama-stack offers for a shield's model id ({@code MODEL_TO_SAFETY_CATEGORIES_MAP}): its core model ids
     * and Hugging Face repo ids of the Llama Guard models, and S1–S14 for any other id.
     */
    public static CategorySet llamaStackDefault(String modelId) {
        String bare = modelId.startsWith("meta-llama/") ? modelId.substring("meta-llama/".length()) : modelId;
        return switch (bare) {
            case "Llama-Guard-3-8B" -> LLAMA_GUARD_3_8B;
            case "Llama-Guard-3-1B" -> LLAMA_GUARD_3_1B;
            case "Llama-Guard-3-11B-Vision", "Llama-Guard-4-12B" -> LLAMA_STACK_LLAMA_GUARD_4;
            default -> LLAMA_STACK_UNKNOWN_MODEL;
        };
    }
}
