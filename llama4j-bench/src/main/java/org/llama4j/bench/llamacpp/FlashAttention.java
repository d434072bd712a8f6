package org.llama4j.bench.llamacpp;

/** {@code enum llama_flash_attn_type}. */
public enum FlashAttention {
    /** llama.cpp decides per device (its default). */
    AUTO(-1),
    /** Plain softmax(QKᵀ)·V; what the llama4-tiny goldens were made with. */
    DISABLED(0),
    ENABLED(1);

    final int code;

    FlashAttention(int code) {
        this.code = code;
    }
}
