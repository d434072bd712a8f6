package org.llama4j.vision;

/**
 * Where each tensor of the Llama 4 vision tower and projector lives, one name mapping per file format. Shapes and
 * values are the same in both: llama.cpp's converter ({@code convert_hf_to_gguf.py}, {@code Llama4VisionModel})
 * renames the HF tensors without transposing or reshaping any of them, so a GGUF {@code ne} is the reversed
 * PyTorch shape, exactly as the HF tensors read in ggml order.
 */
enum VisionTensorNames {
    /** transformers' {@code Llama4ForConditionalGeneration}: {@code vision_model.*}, {@code multi_modal_projector.*}. */
    HUGGING_FACE {
        @Override
        String patchEmbedding() {
            return "vision_model.patch_embedding.linear.weight";
        }

        @Override
        String classEmbedding() {
            return "vision_model.class_embedding";
        }

        @Override
        String positionalEmbedding() {
            return "vision_model.positional_embedding_vlm";
        }

        @Override
        String preNorm(String part) {
            return "vision_model.layernorm_pre." + part;
        }

        @Override
        String postNorm(String part) {
            return "vision_model.layernorm_post." + part;
        }

        @Override
        String layer(int layer, LayerTensor tensor, String part) {
            String module = switch (tensor) {
                case INPUT_NORM -> "input_layernorm";
                case Q -> "self_attn.q_proj";
                case K -> "self_attn.k_proj";
                case V -> "self_attn.v_proj";
                case OUT -> "self_attn.o_proj";
                case POST_ATTENTION_NORM -> "post_attention_layernorm";
                case FC1 -> "mlp.fc1";
                case FC2 -> "mlp.fc2";
            };
            return "vision_model.model.layers." + layer + "." + module + "." + part;
        }

        @Override
        String adapter(int index, String part) {
            return "vision_model.vision_adapter.mlp.fc" + index + "." + part;
        }

        @Override
        String projector(String part) {
            return "multi_modal_projector.linear_1." + part;
        }
    },

    /**
     * llama.cpp's mmproj GGUF ({@code gguf-py} {@code TENSOR_NAMES} for {@code MODEL_ARCH.MMPROJ}; read back by
     * {@code tools/mtmd/clip.cpp}): the adapter's fc1/fc2 become {@code mm.model.mlp.1}/{@code .2} (the HF index is
     * kept), the projector {@code mm.model.fc}, and the positional embedding gains a {@code .weight} suffix while
     * the class embedding has none.
     */
    MMPROJ {
        @Override
        String patchEmbedding() {
            return "v.patch_embd.weight";
        }

        @Override
        String classEmbedding() {
            return "v.class_embd";
        }

        @Override
        String positionalEmbedding() {
            return "v.position_embd.weight";
        }

        @Override
        String preNorm(String part) {
            return "v.pre_ln." + part;
        }

        @Override
        String postNorm(String part) {
            return "v.post_ln." + part;
        }

        @Override
        String layer(int layer, LayerTensor tensor, String part) {
            String module = switch (tensor) {
                case INPUT_NORM -> "ln1";
                case Q -> "attn_q";
                case K -> "attn_k";
                case V -> "attn_v";
                case OUT -> "attn_out";
                case POST_ATTENTION_NORM -> "ln2";
                case FC1 -> "ffn_up";
                case FC2 -> "ffn_down";
            };
            return "v.blk." + layer + "." + module + "." + part;
        }

        @Override
        String adapter(int index, String part) {
            return "mm.model.mlp." + index + "." + part;
        }

        @Override
        String projector(String part) {
            return "mm.model.fc." + part;
        }
    };

    /** The tensors of one transformer block, in the order they are used. */
    enum LayerTensor { INPUT_NORM, Q, K, V, OUT, POST_ATTENTION_NORM, FC1, FC2 }

    /** {@code [dim, 3·p²]} (PyTorch order): the unfold + linear patch embedding. */
    abstract String patchEmbedding();

    /** {@code [dim]}. */
    abstract String classEmbedding();

    /** {@code [G²+1, dim]}, the class token's row last. */
    abstract String positionalEmbedding();

    /** {@code part} is {@code weight} or {@code bias}. */
    abstract String preNorm(String part);

    abstract String postNorm(String part);

    abstract String layer(int layer, LayerTensor tensor, String part);

    /** {@code index} 1 or 2: the pixel-shuffle MLP's first and second linear. */
    abstract String adapter(int index, String part);

    abstract String projector(String part);
}
