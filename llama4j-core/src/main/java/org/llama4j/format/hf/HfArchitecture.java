package org.llama4j.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.Optional;

/** The {@code architectures} entries of a Hugging Face {@code config.json} that llama4j can load. */
public enum HfArchitecture {
    /** Llama 4 as published (Scout, Maverick): text settings under {@code text_config}, vision under {@code vision_config}. */
    LLAMA4_CONDITIONAL_GENERATION("Llama4ForConditionalGeneration", true),
    /** Text-only Llama 4: text settings at the top level. */
    LLAMA4_CAUSAL_LM("Llama4ForCausalLM", false),
    /** Llama 3.x dense models (and Llama Guard 3). */
    LLAMA_CAUSAL_LM("LlamaForCausalLM", false),
    /** DeBERTa-v2/v3 sequence classifiers: Llama Prompt Guard 2 (22M and 86M). */
    DEBERTA_V2_SEQUENCE_CLASSIFICATION("DebertaV2ForSequenceClassification", false);

    private final String hfName;
    private final boolean nestedTextConfig;

    HfArchitecture(String hfName, boolean nestedTextConfig) {
        this.hfName = hfName;
        this.nestedTextConfig = nestedTextConfig;
    }

    /** The class name as written in {@code config.json}. */
    public String hfName() {
        return hfName;
    }

    /** Whether the text model's settings live in {@code text_config} rather than at the top level. */
    public boolean nestedTextConfig() {
        return nestedTextConfig;
    }

    public static Optional<HfArchitecture> fromHfName(String name) {
        return Arrays.stream(values()).filter(a -> a.hfName.equals(name)).findFirst();
    }

    /** The supported names, for error messages. */
    public static String supportedNames() {
        return String.join(", ", Arrays.stream(values()).map(HfArchitecture::hfName).toList());
    }

    /** The node holding the text model's settings. */
    JsonNode textConfigOf(JsonNode config) {
        return nestedTextConfig ? config.get("text_config") : config;
    }
}
