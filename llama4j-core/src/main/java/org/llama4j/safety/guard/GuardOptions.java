package org.llama4j.safety.guard;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What to check for: the categories the prompt offers (in prompt order), the ones excluded from them, and how
 * many tokens the model may generate for its answer.
 *
 * @param categories   offered categories, in the order the prompt lists them; not empty, no repeats
 * @param excluded     categories removed from the offer; excluding all fourteen means excluding none
 *                     (llama-stack's rule), see {@link #effectiveExcluded()}
 * @param maxNewTokens generation budget for the verdict; an answer cut short parses as an error and blocks
 */
public record GuardOptions(List<HazardCategory> categories, Set<HazardCategory> excluded, int maxNewTokens) {
    /** Enough for {@code unsafe\n} and all fourteen codes with commas and spaces. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 64;

    public GuardOptions {
        categories = List.copyOf(categories);
        excluded = excluded.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(excluded));
        if (categories.isEmpty()) {
            throw new GuardInputException("no categories offered: the guard prompt needs at least one");
        }
        if (new HashSet<>(categories).size() != categories.size()) {
            throw new GuardInputException("categories offered more than once: " + categories);
        }
        if (maxNewTokens < 1) {
            throw new GuardInputException("maxNewTokens must be at least 1, got " + maxNewTokens);
        }
    }

    /** The model card's S1–S14, nothing excluded. */
    public static GuardOptions defaults() {
        return of(CategorySet.MODEL_CARD);
    }

    public static GuardOptions of(CategorySet set) {
        return new GuardOptions(set.categories(), Set.of(), DEFAULT_MAX_NEW_TOKENS);
    }

    public GuardOptions withCategories(List<HazardCategory> offered) {
        return new GuardOptions(offered, excluded, maxNewTokens);
    }

    public GuardOptions withCategories(CategorySet set) {
        return withCategories(set.categories());
    }

    public GuardOptions withExcluded(Set<HazardCategory> newExcluded) {
        return new GuardOptions(categories, newExcluded, maxNewTokens);
    }

    public GuardOptions withMaxNewTokens(int tokens) {
        return new GuardOptions(categories, excluded, tokens);
    }

    /**
     * The exclusions that take effect: none when all fourteen codes are excluded (llama-stack compares the excluded
     * set with the full taxonomy, so such a request keeps every offered category). The verdict uses the same set,
     * so such a request also treats every reported code as a violation (fail closed).
     */
    public Set<HazardCategory> effectiveExcluded() {
        return excluded.size() == HazardCategory.values().length ? Set.of() : excluded;
    }

    /** The categories the prompt lists: offered minus effectively excluded, in offer order. May be empty. */
    public List<HazardCategory> listedCategories() {
        Set<HazardCategory> drop = effectiveExcluded();
        return categories.stream().filter(c -> !drop.contains(c)).toList();
    }
}
