package org.llama4j.safety.guard;

import java.util.Optional;

/**
 * The fourteen hazard categories of the Llama Guard 3/4 taxonomy (MLCommons). {@link #promptName()} is the name
 * llama-stack writes into the guard prompt (the fixtures' goldens use it); {@link #modelCardName()} is the Llama
 * Guard 4 model card's wording, for display.
 */
public enum HazardCategory {
    S1("Violent Crimes", "Violent Crimes"),
    S2("Non-Violent Crimes", "Non-Violent Crimes"),
    S3("Sex Crimes", "Sex-Related Crimes"),
    S4("Child Exploitation", "Child Sexual Exploitation"),
    S5("Defamation", "Defamation"),
    S6("Specialized Advice", "Specialized Advice"),
    S7("Privacy", "Privacy"),
    S8("Intellectual Property", "Intellectual Property"),
    S9("Indiscriminate Weapons", "Indiscriminate Weapons"),
    S10("Hate", "Hate"),
    S11("Self-Harm", "Suicide & Self-Harm"),
    S12("Sexual Content", "Sexual Content"),
    S13("Elections", "Elections"),
    S14("Code Interpreter Abuse", "Code Interpreter Abuse");

    private final String promptName;
    private final String modelCardName;

    HazardCategory(String promptName, String modelCardName) {
        this.promptName = promptName;
        this.modelCardName = modelCardName;
    }

    /** The code the model answers with, e.g. {@code S10}. */
    public String code() {
        return name();
    }

    public String promptName() {
        return promptName;
    }

    public String modelCardName() {
        return modelCardName;
    }

    /** The category line of the guard prompt: {@code S<n>: <Name>.} (llama-stack adds the period). */
    public String promptLine() {
        return code() + ": " + promptName + ".";
    }

    /** The category with exactly this code ({@code S1}..{@code S14}; no padding, case or whitespace slack). */
    public static Optional<HazardCategory> fromCode(String code) {
        for (HazardCategory c : values()) {
            if (c.name().equals(code)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** Like {@link #fromCode} for input that must be valid, e.g. a user's category list. */
    public static HazardCategory requireCode(String code) {
        return fromCode(code).orElseThrow(() -> new GuardInputException(
                "unknown hazard category code '" + code + "': expected S1 to S14"));
    }
}
