package org.llama4j.bench.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.llama4j.model.ModelInspection.TensorEntry;

/**
 * A known small config, written out tensor by tensor: hidden 64, vocabulary 100, 4 query heads and 2 KV heads of
 * 16; layer 0 dense (SwiGLU 128), layer 1 MoE (4 experts of width 32, top-1, shared expert 32). Weights BF16
 * (2 bytes), norms and router F32.
 */
class DecodeTrafficTest {
    static final int D = 64;
    static final int VOCAB = 100;
    static final int Q = 4 * 16;
    static final int KV = 2 * 16;
    static final int DENSE = 128;
    static final int EXPERTS = 4;
    static final int EXPERT_WIDTH = 32;

    static TensorEntry t(String name, String type, long bytes) {
        return new TensorEntry(name, type, new long[] {bytes}, bytes, bytes);
    }

    static List<TensorEntry> ggufTensors(boolean withOutputHead) {
        List<TensorEntry> ts = new ArrayList<>();
        ts.add(t("token_embd.weight", "BF16", 2L * VOCAB * D));
        ts.add(t("output_norm.weight", "F32", 4L * D));
        if (withOutputHead) {
            ts.add(t("output.weight", "BF16", 2L * VOCAB * D));
        }
        for (int l = 0; l < 2; l++) {
            String p = "blk." + l + ".";
            ts.add(t(p + "attn_norm.weight", "F32", 4L * D));
            ts.add(t(p + "attn_q.weight", "BF16", 2L * D * Q));
            ts.add(t(p + "attn_k.weight", "BF16", 2L * D * KV));
            ts.add(t(p + "attn_v.weight", "BF16", 2L * D * KV));
            ts.add(t(p + "attn_output.weight", "BF16", 2L * Q * D));
            ts.add(t(p + "ffn_norm.weight", "F32", 4L * D));
        }
        for (String m : List.of("gate", "up", "down")) {
            ts.add(t("blk.0.ffn_" + m + ".weight", "BF16", 2L * D * DENSE));
            ts.add(t("blk.1.ffn_" + m + "_exps.weight", "BF16", 2L * D * EXPERT_WIDTH * EXPERTS));
            ts.add(t("blk.1.ffn_" + m + "_shexp.weight", "BF16", 2L * D * EXPERT_WIDTH));
        }
        ts.add(t("blk.1.ffn_gate_inp.weight", "F32", 4L * D * EXPERTS));
        return ts;
    }

    @Test
    void knownConfigGguf() {
        DecodeTraffic traffic = DecodeTraffic.of(ggufTensors(true), VOCAB, EXPERTS, 1);
        assertThat(traffic.attention()).isEqualTo(2 * 2L * (D * Q + 2 * D * KV + Q * D)); // 49152
        assertThat(traffic.denseFfn()).isEqualTo(3 * 2L * D * DENSE); // 49152
        assertThat(traffic.routedExperts()).isEqualTo(3 * 2L * D * EXPERT_WIDTH); // one of the four: 12288
        assertThat(traffic.sharedExperts()).isEqualTo(3 * 2L * D * EXPERT_WIDTH);
        assertThat(traffic.routers()).isEqualTo(4L * D * EXPERTS);
        assertThat(traffic.embeddingRow()).isEqualTo(2L * D);
        assertThat(traffic.outputHead()).isEqualTo(2L * VOCAB * D);
        assertThat(traffic.other()).isEqualTo(5 * 4L * D); // 4 block norms + the final norm
        assertThat(traffic.total()).isEqualTo(138_112);
    }

    @Test
    void topTwoReadsTwoExperts() {
        DecodeTraffic top1 = DecodeTraffic.of(ggufTensors(true), VOCAB, EXPERTS, 1);
        DecodeTraffic top2 = DecodeTraffic.of(ggufTensors(true), VOCAB, EXPERTS, 2);
        assertThat(top2.routedExperts()).isEqualTo(2 * top1.routedExperts());
        assertThat(top2.total() - top1.total()).isEqualTo(top1.routedExperts());
    }

    @Test
    void tiedEmbeddingsReadTheWholeTableForTheHead() {
        DecodeTraffic tied = DecodeTraffic.of(ggufTensors(false), VOCAB, EXPERTS, 1);
        assertThat(tied.outputHead()).isEqualTo(2L * VOCAB * D);
        assertThat(tied.total()).isEqualTo(138_112);
    }

    @Test
    void hfNamesAndVisionTensorsIgnored() {
        String p = "language_model.model.layers.0.";
        List<TensorEntry> ts = List.of(
                t("language_model.model.embed_tokens.weight", "BF16", 2L * VOCAB * D),
                t("language_model.lm_head.weight", "BF16", 2L * VOCAB * D),
                t(p + "self_attn.q_proj.weight", "BF16", 2L * D * Q),
                t(p + "self_attn.o_proj.weight", "BF16", 2L * Q * D),
                t(p + "feed_forward.router.weight", "BF16", 2L * D * EXPERTS),
                t(p + "feed_forward.experts.gate_up_proj", "BF16", 2L * 2 * D * EXPERT_WIDTH * EXPERTS),
                t(p + "feed_forward.experts.down_proj", "BF16", 2L * D * EXPERT_WIDTH * EXPERTS),
                t(p + "feed_forward.shared_expert.gate_proj.weight", "BF16", 2L * D * EXPERT_WIDTH),
                t(p + "input_layernorm.weight", "BF16", 2L * D),
                t("vision_model.patch_embedding.linear.weight", "BF16", 1_000_000));
        DecodeTraffic traffic = DecodeTraffic.of(ts, VOCAB, EXPERTS, 1);
        assertThat(traffic.attention()).isEqualTo(2L * D * Q * 2);
        assertThat(traffic.routers()).isEqualTo(2L * D * EXPERTS);
        assertThat(traffic.routedExperts()).isEqualTo(3 * 2L * D * EXPERT_WIDTH);
        assertThat(traffic.sharedExperts()).isEqualTo(2L * D * EXPERT_WIDTH);
        assertThat(traffic.other()).isEqualTo(2L * D);
        assertThat(traffic.total()).isLessThan(1_000_000);
    }

    @Test
    void noEmbeddingIsAnError() {
        assertThatThrownBy(() -> DecodeTraffic.of(List.of(t("output.weight", "F32", 4)), VOCAB, 0, 0))
                .hasMessageContaining("no token embedding");
    }
}
