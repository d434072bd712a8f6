package org.llama4j.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import org.llama4j.format.hf.CompressedTensorsConfig;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.format.safetensors.SafetensorsDtype;
import org.llama4j.format.safetensors.SafetensorsWriter;
import org.llama4j.format.safetensors.TensorInfo;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.Fp8RowScaledTensor;
import org.llama4j.tensor.GgmlType;
import org.llama4j.tensor.Tensor;

/**
 * Writes HF Llama 4 folders for tests: a bf16 folder re-laid out as the FP8 release stores it (routed experts per
 * expert, compressed-tensors FP8 with per-row scales, ignored modules in bf16), and self-contained random models.
 */
final class HfCheckpoints {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Only lm_head and the routers stay bf16: every other linear weight, experts included, is FP8. */
    static final List<String> ALL_LINEAR = List.of("language_model.lm_head", "re:.*feed_forward\\.router$");

    /**
     * The split of the Llama-4-Maverick FP8 release: only the routed experts are FP8; attention, shared expert,
     * dense FFNs, routers and lm_head stay bf16.
     */
    static final List<String> ROUTED_EXPERTS_ONLY = List.of("re:.*self_attn\\.", "re:.*shared_expert\\.",
            "re:.*feed_forward\\.(gate|up|down)_proj$", "re:.*feed_forward\\.router$", "language_model.lm_head");

    private static final String FP8_CONFIG = """
            {"quant_method": "compressed-tensors", "format": "float-quantized", "quantization_status": "compressed",
             "config_groups": {"group_0": {"targets": ["Linear"],
               "weights": {"num_bits": 8, "type": "float", "strategy": "channel", "symmetric": true, "dynamic": false},
               "input_activations": {"num_bits": 8, "type": "float", "strategy": "token", "dynamic": true}}},
             "ignore": []}
            """;

    private HfCheckpoints() {
    }

    /**
     * Copies the HF folder {@code src} to {@code dst}, with the fused expert tensors split per expert
     * ({@code experts.<e>.gate_proj/up_proj/down_proj.weight}, {@code nn.Linear} orientation) when
     * {@code perExpert}, and every linear weight not matched by {@code ignore} quantized to FP8 E4M3 with bf16
     * per-row scales ({@code ignore == null}: no quantization_config, everything bf16).
     *
     * @return the names of the FP8 tensors written
     */
    static List<String> rewrite(Path src, Path dst, List<String> ignore, boolean perExpert) throws IOException {
        return rewrite(src, dst, ignore, perExpert, name -> false);
    }

    /** Like {@link #rewrite(Path, Path, List, boolean)}, leaving out the tensors (as written) that {@code drop} names. */
    static List<String> rewrite(Path src, Path dst, List<String> ignore, boolean perExpert, Predicate<String> drop)
            throws IOException {
        List<String> quantized = new ArrayList<>();
        try (HfModelFolder in = HfModelFolder.open(src)) {
            ObjectNode config = (ObjectNode) JSON.readTree(src.resolve(HfModelFolder.CONFIG).toFile());
            CompressedTensorsConfig q = null;
            if (ignore != null) {
                ObjectNode qc = (ObjectNode) JSON.readTree(FP8_CONFIG);
                qc.set("ignore", JSON.valueToTree(ignore));
                config.set("quantization_config", qc);
                q = new CompressedTensorsConfig("float-quantized", ignore);
            }
            Files.createDirectories(dst);
            JSON.writeValue(dst.resolve(HfModelFolder.CONFIG).toFile(), config);
            SafetensorsWriter w = SafetensorsWriter.create(dst.resolve(HfModelFolder.SINGLE_WEIGHTS));
            Writer out = new Writer(w, q, drop, quantized);
            for (String name : in.tensorNames()) {
                TensorInfo info = in.info(name);
                Tensor t = in.tensor(name);
                long[] s = info.shape();
                if (perExpert && name.endsWith("experts.gate_up_proj")) {
                    // [E, D, 2F], input-major: gate of expert x, output j, input i = v[(x·D + i)·2F + j]
                    int experts = (int) s[0];
                    int d = (int) s[1];
                    int f = (int) s[2] / 2;
                    float[] v = t.toFloatArray();
                    String prefix = name.substring(0, name.length() - "gate_up_proj".length());
                    for (int x = 0; x < experts; x++) {
                        float[] gate = new float[f * d];
                        float[] up = new float[f * d];
                        for (int i = 0; i < d; i++) {
                            for (int j = 0; j < f; j++) {
                                gate[j * d + i] = v[(x * d + i) * 2 * f + j];
                                up[j * d + i] = v[(x * d + i) * 2 * f + f + j];
                            }
                        }
                        out.linear(prefix + x + ".gate_proj.weight", gate, f, d);
                        out.linear(prefix + x + ".up_proj.weight", up, f, d);
                    }
                } else if (perExpert && name.endsWith("experts.down_proj")) {
                    // [E, F, D], input-major: down of expert x, output o, input j = v[(x·F + j)·D + o]
                    int experts = (int) s[0];
                    int f = (int) s[1];
                    int d = (int) s[2];
                    float[] v = t.toFloatArray();
                    String prefix = name.substring(0, name.length() - "down_proj".length());
                    for (int x = 0; x < experts; x++) {
                        float[] down = new float[d * f];
                        for (int j = 0; j < f; j++) {
                            for (int o = 0; o < d; o++) {
                                down[o * f + j] = v[(x * f + j) * d + o];
                            }
                        }
                        out.linear(prefix + x + ".down_proj.weight", down, d, f);
                    }
                } else if (name.endsWith("_proj.weight") || name.endsWith("lm_head.weight")
                        || name.endsWith("router.weight")) {
                    out.linear(name, t.toFloatArray(), (int) s[0], (int) s[1]);
                } else if (!drop.test(name)) {
                    w.add(name, info.dtype(), s, ((BlockTensor) t).data());
                }
            }
            w.write();
        }
        return quantized;
    }

    /**
     * The FP8 folder {@code fp8} with every F8_E4M3 weight replaced by its exact dequantized values in F32 (fp8 ×
     * scale, rounded once to float32) and no quantization_config: the "dequantized reference" of an FP8 checkpoint.
     */
    static void dequantizedCopy(Path fp8, Path dst) throws IOException {
        try (HfModelFolder in = HfModelFolder.open(fp8)) {
            ObjectNode config = (ObjectNode) JSON.readTree(fp8.resolve(HfModelFolder.CONFIG).toFile());
            config.remove("quantization_config");
            Files.createDirectories(dst);
            JSON.writeValue(dst.resolve(HfModelFolder.CONFIG).toFile(), config);
            SafetensorsWriter w = SafetensorsWriter.create(dst.resolve(HfModelFolder.SINGLE_WEIGHTS));
            for (String name : in.tensorNames()) {
                TensorInfo info = in.info(name);
                if (info.dtype() == SafetensorsDtype.F8_E4M3) {
                    w.addFloats(name, SafetensorsDtype.F32, info.shape(), in.tensor(name).toFloatArray());
                } else if (!in.contains(name.replaceFirst("_scale$", ""))
                        || in.info(name.replaceFirst("_scale$", "")).dtype() != SafetensorsDtype.F8_E4M3) {
                    w.add(name, info.dtype(), info.shape(), ((BlockTensor) in.tensor(name)).data());
                }
            }
            w.write();
        }
    }

    private record Writer(SafetensorsWriter w, CompressedTensorsConfig q, Predicate<String> drop, List<String> quantized) {
        void linear(String name, float[] values, int rows, int cols) {
            if (drop.test(name)) {
                return;
            }
            if (q != null && !q.isIgnored(CompressedTensorsConfig.moduleOf(name))) {
                var r = Fp8RowScaledTensor.quantizeRows(values, cols, GgmlType.BF16);
                w.add(name, SafetensorsDtype.F8_E4M3, new long[] {rows, cols}, MemorySegment.ofArray(r.data()));
                w.addFloats(name + "_scale", SafetensorsDtype.BF16, new long[] {rows, 1}, r.scales());
                quantized.add(name);
            } else {
                w.addFloats(name, SafetensorsDtype.BF16, new long[] {rows, cols}, values);
            }
        }
    }

    /**
     * A random Maverick-shaped bf16 folder ({@code Llama4ForConditionalGeneration}, fused experts): hidden 128,
     * 4 layers (MoE on 1 and 3, layer 3 NoPE), 4 heads × 32 with 2 KV heads, 8 experts top-1 of width 64 plus a
     * shared expert, dense FFN 256, vocab 512, qk-norm, chunk 16. Drawn like the fixtures: linear weights
     * N(0,1)/√fan_in, norms 1 + 0.1·N(0,1), embeddings N(0,1), rounded to bf16.
     */
    static void writeRandom(Path dst, long seed) throws IOException {
        int vocab = 512;
        int d = 128;
        int layers = 4;
        int heads = 4;
        int kvHeads = 2;
        int headDim = 32;
        int experts = 8;
        int f = 64;
        int dense = 256;
        String config = """
                {"architectures": ["Llama4ForConditionalGeneration"], "model_type": "llama4",
                 "text_config": {"model_type": "llama4_text", "vocab_size": %d, "hidden_size": %d,
                  "intermediate_size": %d, "intermediate_size_mlp": %d, "num_hidden_layers": %d,
                  "num_attention_heads": %d, "num_key_value_heads": %d, "head_dim": %d, "hidden_act": "silu",
                  "max_position_embeddings": 256, "rms_norm_eps": 1e-05, "pad_token_id": 0, "bos_token_id": 1,
                  "eos_token_id": 2, "tie_word_embeddings": false, "rope_theta": 500000.0, "num_experts_per_tok": 1,
                  "num_local_experts": %d, "moe_layers": [1, 3], "interleave_moe_layer_step": 2, "use_qk_norm": true,
                  "rope_scaling": null, "no_rope_layers": [1, 1, 1, 0], "attention_chunk_size": 16,
                  "attn_temperature_tuning": true, "floor_scale": 8, "attn_scale": 0.1, "torch_dtype": "bfloat16"},
                 "tie_word_embeddings": false, "torch_dtype": "bfloat16"}
                """.formatted(vocab, d, f, dense, layers, heads, kvHeads, headDim, experts);
        Files.createDirectories(dst);
        Files.writeString(dst.resolve(HfModelFolder.CONFIG), config);
        Random r = new Random(seed);
        SafetensorsWriter w = SafetensorsWriter.create(dst.resolve(HfModelFolder.SINGLE_WEIGHTS));
        String m = "language_model.model.";
        bf16(w, m + "embed_tokens.weight", normal(r, vocab * d, 1f, 0f), vocab, d);
        bf16(w, "language_model.lm_head.weight", normal(r, vocab * d, (float) (1 / Math.sqrt(d)), 0f), vocab, d);
        bf16(w, m + "norm.weight", normal(r, d, 0.1f, 1f), d);
        for (int l = 0; l < layers; l++) {
            String p = m + "layers." + l + ".";
            bf16(w, p + "input_layernorm.weight", normal(r, d, 0.1f, 1f), d);
            bf16(w, p + "post_attention_layernorm.weight", normal(r, d, 0.1f, 1f), d);
            linear(w, r, p + "self_attn.q_proj.weight", heads * headDim, d);
            linear(w, r, p + "self_attn.k_proj.weight", kvHeads * headDim, d);
            linear(w, r, p + "self_attn.v_proj.weight", kvHeads * headDim, d);
            linear(w, r, p + "self_attn.o_proj.weight", d, heads * headDim);
            String ff = p + "feed_forward.";
            if (l % 2 == 1) {
                linear(w, r, ff + "router.weight", experts, d);
                bf16(w, ff + "experts.gate_up_proj", normal(r, experts * d * 2 * f, (float) (1 / Math.sqrt(d)), 0f),
                        experts, d, 2 * f);
                bf16(w, ff + "experts.down_proj", normal(r, experts * f * d, (float) (1 / Math.sqrt(f)), 0f),
                        experts, f, d);
                linear(w, r, ff + "shared_expert.gate_proj.weight", f, d);
                linear(w, r, ff + "shared_expert.up_proj.weight", f, d);
                linear(w, r, ff + "shared_expert.down_proj.weight", d, f);
            } else {
                linear(w, r, ff + "gate_proj.weight", dense, d);
                linear(w, r, ff + "up_proj.weight", dense, d);
                linear(w, r, ff + "down_proj.weight", d, dense);
            }
        }
        w.write();
    }

    private static void linear(SafetensorsWriter w, Random r, String name, int out, int in) {
        bf16(w, name, normal(r, out * in, (float) (1 / Math.sqrt(in)), 0f), out, in);
    }

    private static void bf16(SafetensorsWriter w, String name, float[] values, long... shape) {
        w.addFloats(name, SafetensorsDtype.BF16, shape, values);
    }

    private static float[] normal(Random r, int n, float scale, float mean) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = mean + scale * (float) r.nextGaussian();
        }
        return v;
    }
}
