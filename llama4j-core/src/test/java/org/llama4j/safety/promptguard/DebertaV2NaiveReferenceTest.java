package org.llama4j.safety.promptguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.safetensors.SafetensorsDtype;
import org.llama4j.format.safetensors.SafetensorsWriter;

/**
 * Tiny random DeBERTa-v2 checkpoints written to a temp folder, checked against a naive float64 forward pass written
 * here from the formulas (per-position loops, its own buckets), without any fixture.
 */
class DebertaV2NaiveReferenceTest {
    @TempDir
    Path tmp;

    static final int H = 16;
    static final int HEADS = 2;
    static final int FF = 24;
    static final int VOCAB = 40;
    static final int BUCKETS = 8;
    static final int MAX_REL = 16;

    /** A tiny checkpoint: weights by HF name and shape [out, in]. */
    record Tiny(Path dir, Map<String, double[]> w, boolean share, boolean c2p, boolean p2c, int emb, boolean posInput,
            int typeVocab) {
        double[] get(String n) {
            double[] v = w.get(n);
            if (v == null) {
                throw new IllegalStateException("no " + n);
            }
            return v;
        }
    }

    Tiny write(String name, boolean share, boolean c2p, boolean p2c, int emb, boolean posInput, int typeVocab)
            throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Random rnd = new Random(name.hashCode());
        Map<String, double[]> w = new LinkedHashMap<>();
        SafetensorsWriter out = SafetensorsWriter.create(dir.resolve("model.safetensors"));
        java.util.function.BiConsumer<String, long[]> add = (n, shape) -> {
            int count = 1;
            for (long s : shape) {
                count *= (int) s;
            }
            float[] v = new float[count];
            boolean isNormWeight = n.endsWith("LayerNorm.weight");
            for (int i = 0; i < count; i++) {
                v[i] = isNormWeight ? 1f + 0.2f * (float) rnd.nextGaussian() : 0.3f * (float) rnd.nextGaussian();
            }
            double[] d = new double[count];
            for (int i = 0; i < count; i++) {
                d[i] = v[i];
            }
            w.put(n, d);
            out.addFloats(n, SafetensorsDtype.F32, shape, v);
        };
        String e = "deberta.embeddings.";
        add.accept(e + "word_embeddings.weight", new long[] {VOCAB, emb});
        if (posInput) {
            add.accept(e + "position_embeddings.weight", new long[] {64, emb});
        }
        if (typeVocab > 0) {
            add.accept(e + "token_type_embeddings.weight", new long[] {typeVocab, emb});
        }
        if (emb != H) {
            add.accept(e + "embed_proj.weight", new long[] {H, emb});
        }
        add.accept(e + "LayerNorm.weight", new long[] {H});
        add.accept(e + "LayerNorm.bias", new long[] {H});
        add.accept("deberta.encoder.rel_embeddings.weight", new long[] {2 * BUCKETS, H});
        add.accept("deberta.encoder.LayerNorm.weight", new long[] {H});
        add.accept("deberta.encoder.LayerNorm.bias", new long[] {H});
        for (int l = 0; l < 2; l++) {
            String p = "deberta.encoder.layer." + l + ".";
            for (String proj : new String[] {"query_proj", "key_proj", "value_proj"}) {
                add.accept(p + "attention.self." + proj + ".weight", new long[] {H, H});
                add.accept(p + "attention.self." + proj + ".bias", new long[] {H});
            }
            if (!share && c2p) {
                add.accept(p + "attention.self.pos_key_proj.weight", new long[] {H, H});
                add.accept(p + "attention.self.pos_key_proj.bias", new long[] {H});
            }
            if (!share && p2c) {
                add.accept(p + "attention.self.pos_query_proj.weight", new long[] {H, H});
                add.accept(p + "attention.self.pos_query_proj.bias", new long[] {H});
            }
            add.accept(p + "attention.output.dense.weight", new long[] {H, H});
            add.accept(p + "attention.output.dense.bias", new long[] {H});
            add.accept(p + "attention.output.LayerNorm.weight", new long[] {H});
            add.accept(p + "attention.output.LayerNorm.bias", new long[] {H});
            add.accept(p + "intermediate.dense.weight", new long[] {FF, H});
            add.accept(p + "intermediate.dense.bias", new long[] {FF});
            add.accept(p + "output.dense.weight", new long[] {H, FF});
            add.accept(p + "output.dense.bias", new long[] {H});
            add.accept(p + "output.LayerNorm.weight", new long[] {H});
            add.accept(p + "output.LayerNorm.bias", new long[] {H});
        }
        add.accept("pooler.dense.weight", new long[] {H, H});
        add.accept("pooler.dense.bias", new long[] {H});
        add.accept("classifier.weight", new long[] {3, H});
        add.accept("classifier.bias", new long[] {3});
        out.write();
        String posAtt = (c2p ? "\"c2p\"" : "") + (c2p && p2c ? "," : "") + (p2c ? "\"p2c\"" : "");
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["DebertaV2ForSequenceClassification"], "model_type": "deberta-v2",
                 "hidden_size": %d, "embedding_size": %d, "num_hidden_layers": 2, "num_attention_heads": %d,
                 "intermediate_size": %d, "vocab_size": %d, "hidden_act": "gelu", "pooler_hidden_act": "gelu",
                 "layer_norm_eps": 1e-7, "max_position_embeddings": 64, "relative_attention": true,
                 "position_buckets": %d, "max_relative_positions": %d, "pos_att_type": [%s],
                 "norm_rel_ebd": "layer_norm", "share_att_key": %s, "position_biased_input": %s,
                 "type_vocab_size": %d, "id2label": {"0": "BENIGN", "1": "INJECTION", "2": "JAILBREAK"}}
                """.formatted(H, emb, HEADS, FF, VOCAB, BUCKETS, MAX_REL, posAtt, share, posInput, typeVocab));
        return new Tiny(dir, w, share, c2p, p2c, emb, posInput, typeVocab);
    }

    // ---- the naive reference, float64 ----

    static int naiveBucket(int r) {
        int mid = BUCKETS / 2;
        if (Math.abs(r) <= mid) {
            return r;
        }
        double logPos = Math.ceil(Math.log(Math.abs(r) / (double) mid) / Math.log((MAX_REL - 1) / (double) mid)
                * (mid - 1)) + mid;
        return (int) Math.signum(r) * (int) logPos;
    }

    static double[] linear(Tiny t, String prefix, double[] x, boolean bias) {
        double[] w = t.get(prefix + ".weight");
        int in = x.length;
        int out = w.length / in;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = bias ? t.get(prefix + ".bias")[o] : 0;
            for (int i = 0; i < in; i++) {
                s += w[o * in + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    static double[] layerNorm(Tiny t, String prefix, double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= x.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (x[i] - mean) / Math.sqrt(var + 1e-7) * t.get(prefix + ".weight")[i] + t.get(prefix + ".bias")[i];
        }
        return y;
    }

    static double gelu(double x) {
        return 0.5 * x * (1 + Activation.erf(x / Math.sqrt(2)));
    }

    static double dot(double[] a, double[] b, int from, int len) {
        double s = 0;
        for (int i = from; i < from + len; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double[] naiveLogits(Tiny t, int[] ids) {
        int n = ids.length;
        int d = H / HEADS;
        String e = "deberta.embeddings.";
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) {
            double[] v = java.util.Arrays.copyOfRange(t.get(e + "word_embeddings.weight"), ids[i] * t.emb(),
                    (ids[i] + 1) * t.emb());
            for (int k = 0; k < t.emb(); k++) {
                if (t.posInput()) {
                    v[k] += t.get(e + "position_embeddings.weight")[i * t.emb() + k];
                }
                if (t.typeVocab() > 0) {
                    v[k] += t.get(e + "token_type_embeddings.weight")[k];
                }
            }
            if (t.emb() != H) {
                v = linear(t, e + "embed_proj", v, false);
            }
            x[i] = layerNorm(t, e + "LayerNorm", v);
        }
        double[][] rel = new double[2 * BUCKETS][];
        for (int r = 0; r < rel.length; r++) {
            rel[r] = layerNorm(t, "deberta.encoder.LayerNorm", java.util.Arrays.copyOfRange(
                    t.get("deberta.encoder.rel_embeddings.weight"), r * H, (r + 1) * H));
        }
        int scaleFactor = 1 + (t.c2p() ? 1 : 0) + (t.p2c() ? 1 : 0);
        double scale = Math.sqrt(d * scaleFactor);
        for (int l = 0; l < 2; l++) {
            String p = "deberta.encoder.layer." + l + ".";
            String s = p + "attention.self.";
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] v = new double[n][];
            for (int i = 0; i < n; i++) {
                q[i] = linear(t, s + "query_proj", x[i], true);
                k[i] = linear(t, s + "key_proj", x[i], true);
                v[i] = linear(t, s + "value_proj", x[i], true);
            }
            double[][] kr = new double[rel.length][];
            double[][] qr = new double[rel.length][];
            for (int r = 0; r < rel.length; r++) {
                kr[r] = t.c2p() ? linear(t, s + (t.share() ? "key_proj" : "pos_key_proj"), rel[r], true) : null;
                qr[r] = t.p2c() ? linear(t, s + (t.share() ? "query_proj" : "pos_query_proj"), rel[r], true) : null;
            }
            double[][] ctx = new double[n][H];
            for (int h = 0; h < HEADS; h++) {
                for (int i = 0; i < n; i++) {
                    double[] score = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        int idx = Math.clamp(naiveBucket(i - j) + BUCKETS, 0, 2 * BUCKETS - 1);
                        double sc = dot(q[i], k[j], h * d, d);
                        if (t.c2p()) {
                            sc += dot(q[i], kr[idx], h * d, d);
                        }
                        if (t.p2c()) {
                            // p2c as transformers gathers it: k_j against Qr at clamp(-bucket(j - i) + span)
                            int pIdx = Math.clamp(-naiveBucket(j - i) + BUCKETS, 0, 2 * BUCKETS - 1);
                            sc += dot(k[j], qr[pIdx], h * d, d);
                        }
                        score[j] = sc / scale;
                        max = Math.max(max, score[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < n; j++) {
                        score[j] = Math.exp(score[j] - max);
                        sum += score[j];
                    }
                    for (int j = 0; j < n; j++) {
                        for (int c = h * d; c < (h + 1) * d; c++) {
                            ctx[i][c] += score[j] / sum * v[j][c];
                        }
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                double[] a = linear(t, p + "attention.output.dense", ctx[i], true);
                for (int c = 0; c < H; c++) {
                    a[c] += x[i][c];
                }
                a = layerNorm(t, p + "attention.output.LayerNorm", a);
                double[] f = linear(t, p + "intermediate.dense", a, true);
                for (int c = 0; c < f.length; c++) {
                    f[c] = gelu(f[c]);
                }
                double[] o = linear(t, p + "output.dense", f, true);
                for (int c = 0; c < H; c++) {
                    o[c] += a[c];
                }
                x[i] = layerNorm(t, p + "output.LayerNorm", o);
            }
        }
        double[] pooled = linear(t, "pooler.dense", x[0], true);
        for (int c = 0; c < pooled.length; c++) {
            pooled[c] = gelu(pooled[c]);
        }
        return linear(t, "classifier", pooled, true);
    }

    static int[] randomIds(int n, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(VOCAB);
        }
        return ids;
    }

    void assertMatchesNaive(Tiny t) {
        try (DebertaV2Classifier m = DebertaV2Classifier.load(t.dir())) {
            for (int n : new int[] {1, 2, 5, 9, 23}) {
                int[] ids = randomIds(n, n);
                double[] expected = naiveLogits(t, ids);
                float[] got = m.classify(ids).logits();
                for (int c = 0; c < expected.length; c++) {
                    assertEquals(expected[c], got[c], 2e-5, t.dir().getFileName() + " length " + n + " logit " + c);
                }
            }
        }
    }

    @Test
    void naiveBucketsAgreeWithFloat32Buckets() {
        for (int r = -40; r <= 40; r++) {
            assertEquals(naiveBucket(r), RelativePositions.bucket(r, BUCKETS, MAX_REL), "bucket " + r);
            assertEquals(-RelativePositions.bucket(r, BUCKETS, MAX_REL), RelativePositions.bucket(-r, BUCKETS, MAX_REL));
        }
        assertThat(Math.clamp(naiveBucket(22) + BUCKETS, 0, 2 * BUCKETS - 1)).as("length 23 exercises the clamp")
                .isEqualTo(2 * BUCKETS - 1);
        assertThat(naiveBucket(22) + BUCKETS).isGreaterThan(2 * BUCKETS - 1);
    }

    @Test
    void sharedKeysWithC2pAndP2c() throws IOException {
        assertMatchesNaive(write("shared", true, true, true, H, false, 0));
    }

    @Test
    void separatePositionProjectionsC2pOnly() throws IOException {
        assertMatchesNaive(write("c2p-only", false, true, false, H, false, 0));
    }

    @Test
    void separatePositionProjectionsP2cOnlyWithEmbedProjectionPositionsAndTokenTypes() throws IOException {
        assertMatchesNaive(write("p2c-proj", false, false, true, 12, true, 2));
    }

    @Test
    void paddingDoesNotChangeTheLogits() throws IOException {
        Tiny t = write("padding", true, true, true, H, false, 0);
        try (DebertaV2Classifier m = DebertaV2Classifier.load(t.dir())) {
            int[] ids = randomIds(7, 3);
            int[] padded = java.util.Arrays.copyOf(ids, 12);
            int[] mask = new int[12];
            java.util.Arrays.fill(mask, 0, 7, 1);
            float[] plain = m.classify(ids).logits();
            DebertaV2Classifier.Output out = m.forward(padded, mask, true);
            for (int c = 0; c < plain.length; c++) {
                assertEquals(plain[c], out.logits()[c], 1e-5);
            }
            assertThat(out.probabilities()).hasSize(3);
            assertEquals(1.0, java.util.Arrays.stream(out.probabilities()).sum(), 1e-12);
            assertThatThrownBy(() -> m.classify(new int[] {1, VOCAB})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("token id " + VOCAB + " at position 1");
            assertThatThrownBy(() -> m.forward(ids, new int[] {1, 2, 1, 1, 1, 1, 1}, false))
                    .hasMessageContaining("attention mask value 2");
        }
    }

    @Test
    void configAndWeightErrorsAreSpecific() throws IOException {
        Tiny t = write("errors", true, true, true, H, false, 0);
        Path config = t.dir().resolve("config.json");
        String good = Files.readString(config);
        Files.writeString(config, good.replace("\"num_attention_heads\": 2", "\"num_attention_heads\": 3"));
        assertThatThrownBy(() -> DebertaV2Classifier.load(t.dir())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("hidden_size").hasMessageContaining("not a multiple of num_attention_heads 3");
        Files.writeString(config, good.replace("\"intermediate_size\": 24", "\"intermediate_size\": 25"));
        assertThatThrownBy(() -> DebertaV2Classifier.load(t.dir())).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("intermediate.dense.weight\" has shape [24, 16], expected [25, 16]");
        Files.writeString(config, good.replace("\"pos_att_type\": [", "\"conv_kernel_size\": 3, \"pos_att_type\": ["));
        assertThatThrownBy(() -> DebertaV2Classifier.load(t.dir())).hasMessageContaining("ConvLayer is not supported");
        Files.writeString(config, good.replace("\"c2p\",\"p2c\"", "\"c2p\",\"p2p\""));
        assertThatThrownBy(() -> DebertaV2Classifier.load(t.dir())).hasMessageContaining("unknown attention type \"p2p\"");
        Files.writeString(config, good.replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"swish\""));
        assertThatThrownBy(() -> DebertaV2Classifier.load(t.dir())).hasMessageContaining("activation \"swish\"");
    }

    @Test
    void erfMatchesKnownValues() {
        double[][] known = {{0, 0}, {0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
            {2, 0.9953222650189527}, {2.5, 0.999593047982555}, {3, 0.9999779095030014}, {4, 0.9999999845827421},
            {-1.5, -0.9661051464753108}};
        for (double[] k : known) {
            assertEquals(k[1], Activation.erf(k[0]), 1e-14, "erf(" + k[0] + ")");
        }
    }
}
