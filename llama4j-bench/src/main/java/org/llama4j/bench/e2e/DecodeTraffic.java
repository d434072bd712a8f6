package org.llama4j.bench.e2e;

import java.util.List;
import org.llama4j.model.ModelInspection;
import org.llama4j.model.ModelInspection.TensorEntry;

/**
 * Bytes of weights one decoded token reads, the numerator of the decode bandwidth roofline: a decode step is a
 * chain of matrix-vector products, so each weight byte it touches comes from memory once per token.
 *
 * <p>Per token: every attention weight, norm and router; in MoE layers the shared expert plus {@code k} of the
 * {@code E} routed experts (routed expert tensors hold all {@code E} experts stacked, so {@code k/E} of them);
 * in dense layers the whole FFN; one row of the token embedding table; the whole output head (or, when the head is
 * tied to the embeddings, the whole table once more). Vision tensors are never read by text decode. KV-cache
 * reads are not weights and are left out (small next to the weights for short contexts).
 *
 * @param attention     q, k, v, output projections of all layers
 * @param routedExperts the {@code k} routed experts a token runs, over all MoE layers
 * @param sharedExperts the shared expert of all MoE layers
 * @param denseFfn      the SwiGLU of dense layers
 * @param routers       expert routers
 * @param embeddingRow  one row of the token embedding table
 * @param outputHead    the output head (vocabulary × hidden)
 * @param other         norms and anything else not named above
 */
public record DecodeTraffic(long attention, long routedExperts, long sharedExperts, long denseFfn, long routers,
                            long embeddingRow, long outputHead, long other) {

    public long total() {
        return attention + routedExperts + sharedExperts + denseFfn + routers + embeddingRow + outputHead + other;
    }

    /** From a checkpoint's tensor list (GGUF or HF names) and its config. */
    public static DecodeTraffic of(ModelInspection model) {
        if (model.config() == null) {
            throw new IllegalArgumentException(model.path() + " holds no Llama 4 text model: " + model.configError());
        }
        var c = model.config();
        return of(model.tensors(), c.vocabSize(), c.expertCount(), c.expertsPerToken());
    }

    /**
     * @param vocabSize       rows of the embedding table
     * @param expertCount     routed experts per MoE layer (0 for a dense model)
     * @param expertsPerToken routed experts each token runs
     */
    public static DecodeTraffic of(List<TensorEntry> tensors, int vocabSize, int expertCount, int expertsPerToken) {
        long attention = 0;
        long routed = 0;
        long shared = 0;
        long dense = 0;
        long routers = 0;
        long embeddingTable = -1;
        long head = -1;
        long other = 0;
        for (TensorEntry t : tensors) {
            String n = t.name();
            long b = t.bytes();
            if (isVision(n)) {
                continue;
            } else if (isEmbedding(n)) {
                embeddingTable = b;
            } else if (isOutputHead(n)) {
                head = b;
            } else if (isRoutedExpert(n)) {
                if (expertCount <= 0) {
                    throw new IllegalArgumentException("routed expert tensor " + n + " but the config has no experts");
                }
                // Experts are stacked along the outermost dimension: each is exactly 1/E of the bytes.
                routed += b / expertCount * expertsPerToken;
            } else if (isSharedExpert(n)) {
                shared += b;
            } else if (isRouter(n)) {
                routers += b;
            } else if (isDenseFfn(n)) {
                dense += b;
            } else if (isAttentionProjection(n)) {
                attention += b;
            } else {
                other += b;
            }
        }
        if (embeddingTable < 0) {
            throw new IllegalArgumentException("no token embedding tensor (token_embd / embed_tokens)");
        }
        long embeddingRow = embeddingTable / vocabSize;
        // Tied embeddings: the head is the embedding table, read whole for the logits.
        long outputHead = head >= 0 ? head : embeddingTable;
        return new DecodeTraffic(attention, routed, shared, dense, routers, embeddingRow, outputHead, other);
    }

    private static boolean isVision(String n) {
        return n.startsWith("vision_model.") || n.startsWith("multi_modal_projector.") || n.startsWith("v.")
                || n.startsWith("mm.");
    }

    private static boolean isEmbedding(String n) {
        return n.equals("token_embd.weight") || n.endsWith("embed_tokens.weight");
    }

    private static boolean isOutputHead(String n) {
        return n.equals("output.weight") || n.endsWith("lm_head.weight");
    }

    private static boolean isRoutedExpert(String n) {
        return n.contains("_exps") || n.contains(".feed_forward.experts.");
    }

    private static boolean isSharedExpert(String n) {
        return n.contains("_shexp") || n.contains(".shared_expert.");
    }

    private static boolean isRouter(String n) {
        return n.contains("ffn_gate_inp") || n.contains(".feed_forward.router.");
    }

    private static boolean isDenseFfn(String n) {
        return n.contains(".ffn_gate.") || n.contains(".ffn_up.") || n.contains(".ffn_down.")
                || n.contains(".feed_forward.gate_proj") || n.contains(".feed_forward.up_proj")
                || n.contains(".feed_forward.down_proj");
    }

    private static boolean isAttentionProjection(String n) {
        return n.contains(".attn_q.") || n.contains(".attn_k.") || n.contains(".attn_v.") || n.contains(".attn_output.")
                || n.contains(".attn_qkv.") || (n.contains(".self_attn.") && n.contains("_proj"));
    }
}
