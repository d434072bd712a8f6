package org.llama4j.bench.llamacpp;

/** Element type of llama.cpp's KV cache ({@code llama_context_params.type_k/type_v}, a {@code ggml_type}). */
public enum KvCacheType {
    /** Exact; what the llama4-tiny goldens were made with. */
    F32(0),
    /** llama.cpp's default. */
    F16(1),
    BF16(30),
    Q8_0(8);

    final int ggmlType;

    KvCacheType(int ggmlType) {
        this.ggmlType = ggmlType;
    }
}
