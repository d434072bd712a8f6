package org.llama4j.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.llama4j.format.gguf.GgufWriter;
import org.llama4j.format.safetensors.SafetensorsDtype;
import org.llama4j.format.safetensors.SafetensorsWriter;
import org.llama4j.kernel.RopeScaling;

/**
 * Writes a {@link RandomLlama4} dense Llama 3 (Meta's weight layout in memory) to disk the way the two converters
 * do, written from their descriptions and sharing no code with the loaders:
 * <ul>
 *   <li>HF ({@code LlamaForCausalLM}): transformers' {@code permute(w, n_heads)} applied to q and k rows, FFN
 *       under {@code mlp.}, no {@code lm_head.weight} when tied;</li>
 *   <li>GGUF (arch {@code llama}): Meta's rows as they are, llama3 RoPE scaling only as the {@code rope_freqs}
 *       divisors, no {@code output.weight} when tied.</li>
 * </ul>
 * Everything is F32, so both checkpoints hold exactly the in-memory values.
 */
final class Llama3Checkpoints {
    private Llama3Checkpoints() {
    }

    static Path writeHfFolder(RandomLlama4 m, boolean tied, Path dir) throws IOException {
        Llama4Config c = m.config;
        RopeScaling s = c.ropeScaling();
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": %d, "hidden_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d, "head_dim": %d,
                 "intermediate_size": %d, "rope_theta": %s, "rms_norm_eps": %s, "max_position_embeddings": %d,
                 "rope_scaling": {"rope_type": "llama3", "factor": %s, "low_freq_factor": %s, "high_freq_factor": %s,
                                  "original_max_position_embeddings": %d},
                 "bos_token_id": %d, "eos_token_id": %d, "tie_word_embeddings": %b, "hidden_act": "silu"}
                """.formatted(c.vocabSize(), c.hiddenSize(), c.layerCount(), c.headCount(), c.kvHeadCount(),
                c.headDim(), c.denseFfnWidth(), c.ropeTheta(), c.rmsNormEps(), c.contextLength(), s.factor(),
                s.lowFreqFactor(), s.highFreqFactor(), s.originalContextLength(), c.bosTokenId(),
                c.eosTokenIds().getFirst(), tied));
        SafetensorsWriter w = SafetensorsWriter.create(dir.resolve("model.safetensors"));
        add(w, "model.embed_tokens.weight", m.embeddings);
        if (!tied) {
            add(w, "lm_head.weight", m.head);
        }
        add(w, "model.norm.weight", m.finalNorm);
        for (int l = 0; l < c.layerCount(); l++) {
            RandomLlama4.Layer layer = m.layers.get(l);
            String p = "model.layers." + l + ".";
            add(w, p + "input_layernorm.weight", layer.attnNorm);
            add(w, p + "post_attention_layernorm.weight", layer.ffnNorm);
            add(w, p + "self_attn.q_proj.weight", permuteForRotateHalf(layer.wq, c.headCount()));
            add(w, p + "self_attn.k_proj.weight", permuteForRotateHalf(layer.wk, c.kvHeadCount()));
            add(w, p + "self_attn.v_proj.weight", layer.wv);
            add(w, p + "self_attn.o_proj.weight", layer.wo);
            add(w, p + "mlp.gate_proj.weight", layer.gate);
            add(w, p + "mlp.up_proj.weight", layer.up);
            add(w, p + "mlp.down_proj.weight", layer.down);
        }
        w.write();
        return dir;
    }

    static Path writeGguf(RandomLlama4 m, boolean tied, Path file) throws IOException {
        Llama4Config c = m.config;
        String a = "llama.";
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama")
                .putUInt32(a + "vocab_size", c.vocabSize())
                .putUInt32(a + "context_length", c.contextLength())
                .putUInt32(a + "embedding_length", c.hiddenSize())
                .putUInt32(a + "block_count", c.layerCount())
                .putUInt32(a + "feed_forward_length", c.denseFfnWidth())
                .putUInt32(a + "attention.head_count", c.headCount())
                .putUInt32(a + "attention.head_count_kv", c.kvHeadCount())
                .putUInt32(a + "attention.key_length", c.headDim())
                .putUInt32(a + "attention.value_length", c.headDim())
                .putUInt32(a + "rope.dimension_count", c.headDim())
                .putFloat32(a + "rope.freq_base", c.ropeTheta())
                .putFloat32(a + "attention.layer_norm_rms_epsilon", c.rmsNormEps())
                .putUInt32("tokenizer.ggml.bos_token_id", c.bosTokenId())
                .putUInt32("tokenizer.ggml.eos_token_id", c.eosTokenIds().getFirst());
        add(w, "token_embd.weight", m.embeddings);
        if (!tied) {
            add(w, "output.weight", m.head);
        }
        add(w, "output_norm.weight", m.finalNorm);
        w.addF32Tensor("rope_freqs.weight", ropeFreqDivisors(c), c.headDim() / 2);
        for (int l = 0; l < c.layerCount(); l++) {
            RandomLlama4.Layer layer = m.layers.get(l);
            String p = "blk." + l + ".";
            add(w, p + "attn_norm.weight", layer.attnNorm);
            add(w, p + "ffn_norm.weight", layer.ffnNorm);
            add(w, p + "attn_q.weight", layer.wq);
            add(w, p + "attn_k.weight", layer.wk);
            add(w, p + "attn_v.weight", layer.wv);
            add(w, p + "attn_output.weight", layer.wo);
            add(w, p + "ffn_gate.weight", layer.gate);
            add(w, p + "ffn_up.weight", layer.up);
            add(w, p + "ffn_down.weight", layer.down);
        }
        w.write(file);
        return file;
    }

    /**
     * transformers' {@code w.view(n_heads, hd/2, 2, D).transpose(1, 2).reshape(n_heads·hd, D)}: within each head,
     * the interleaved pairs (0,1),(2,3),... become "all even rows, then all odd rows".
     */
    static float[][] permuteForRotateHalf(float[][] w, int heads) {
        int hd = w.length / heads;
        float[][] out = new float[w.length][];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hd / 2; i++) {
                for (int j = 0; j < 2; j++) {
                    out[h * hd + j * hd / 2 + i] = w[h * hd + 2 * i + j];
                }
            }
        }
        return out;
    }

    /** convert_hf_to_gguf.py's llama3 divisors: 1, {@code factor}, or {@code 1/((1-s)/factor + s)} in between. */
    static float[] ropeFreqDivisors(Llama4Config c) {
        RopeScaling s = c.ropeScaling();
        float[] out = new float[c.headDim() / 2];
        for (int i = 0; i < out.length; i++) {
            double wavelength = 2 * Math.PI * Math.pow(c.ropeTheta(), 2.0 * i / c.headDim());
            double low = s.originalContextLength() / (double) s.lowFreqFactor();
            double high = s.originalContextLength() / (double) s.highFreqFactor();
            if (wavelength < high) {
                out[i] = 1f;
            } else if (wavelength > low) {
                out[i] = s.factor();
            } else {
                double smooth = (s.originalContextLength() / wavelength - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                out[i] = (float) (1 / ((1 - smooth) / s.factor() + smooth));
            }
        }
        return out;
    }

    private static void add(SafetensorsWriter w, String name, float[][] m) {
        w.addFloats(name, SafetensorsDtype.F32, new long[] {m.length, m[0].length}, concat(m));
    }

    private static void add(SafetensorsWriter w, String name, float[] v) {
        w.addFloats(name, SafetensorsDtype.F32, new long[] {v.length}, v);
    }

    private static void add(GgufWriter w, String name, float[][] m) {
        w.addF32Tensor(name, concat(m), m[0].length, m.length);
    }

    private static void add(GgufWriter w, String name, float[] v) {
        w.addF32Tensor(name, v, v.length);
    }

    private static float[] concat(float[][] m) {
        float[] out = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
        }
        return out;
    }
}
