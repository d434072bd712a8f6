package org.llama4j.model;

import java.util.Arrays;
import java.util.Optional;

/**
 * The model architectures the one forward pass in {@link Llama4Model} runs. They differ only in which of its
 * features a layer uses, which {@link Llama4Config} spells out; this enum names the family (for checkpoint
 * layouts, chat formats and messages) and maps the names checkpoints use for it.
 */
public enum Architecture {
    /**
     * Llama 4 text models (Scout, Maverick): MoE or dense FFN per layer, RoPE layers with chunked attention and
     * QK-norm, NoPE layers with global attention and query temperature tuning.
     */
    LLAMA4("llama4", "Llama 4"),
    /**
     * Dense Llama 3.x (3.1, 3.2, 3.3, Llama Guard 3), llama.cpp's {@code llama}: every layer a SwiGLU FFN with
     * RoPE and global causal attention, llama3 RoPE scaling, often tied embeddings.
     */
    LLAMA3("llama", "Llama 3");

    private final String ggufName;
    private final String displayName;

    Architecture(String ggufName, String displayName) {
        this.ggufName = ggufName;
        this.displayName = displayName;
    }

    /** The {@code general.architecture} value of a GGUF, which also prefixes its metadata keys. */
    public String ggufName() {
        return ggufName;
    }

    public String displayName() {
        return displayName;
    }

    public static Optional<Architecture> fromGgufName(String name) {
        return Arrays.stream(values()).filter(a -> a.ggufName.equals(name)).findFirst();
    }

    /** The GGUF names llama4j loads, for error messages. */
    public static String supportedGgufNames() {
        return String.join(", ", Arrays.stream(values()).map(Architecture::ggufName).toList());
    }
}
