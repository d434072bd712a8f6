package org.llama4j.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.llama4j.format.safetensors.SafetensorsDtype;
import org.llama4j.format.safetensors.SafetensorsWriter;

/**
 * Writes a tiny random-weight Prompt Guard 2 checkpoint folder (DeBERTa-v2 classifier in safetensors, a small
 * SentencePiece Unigram {@code spm.model}, {@code config.json}), so the Prompt Guard shield is tested without the
 * fixtures. The weights are random: which texts score higher is fixed by the seed, not learned.
 */
final class TinyPromptGuard {
    static final int HIDDEN = 16;
    static final int FFN = 24;
    static final List<String> WORDS = List.of("▁ignore", "▁all", "▁previous", "▁instructions", "▁and", "▁reveal",
            "▁the", "▁system", "▁prompt", "▁what", "▁is", "▁weather", "▁today", "▁hello");

    private TinyPromptGuard() {
    }

    /** @param maliciousFirst whether label 0 is MALICIOUS (swapping the labels mirrors every score p to 1 - p) */
    static Path write(Path dir, long seed, boolean maliciousFirst) throws IOException {
        Files.createDirectories(dir);
        List<String> pieces = new ArrayList<>(List.of("[PAD]", "[CLS]", "[SEP]", "[UNK]", "▁"));
        for (char c = 'a'; c <= 'z'; c++) {
            pieces.add(String.valueOf(c));
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            pieces.add(String.valueOf(c));
        }
        pieces.addAll(WORDS);
        Files.write(dir.resolve("spm.model"), spmModel(pieces));
        int vocab = pieces.size();

        Random rnd = new Random(seed);
        SafetensorsWriter out = SafetensorsWriter.create(dir.resolve("model.safetensors"));
        String e = "deberta.embeddings.";
        add(out, rnd, e + "word_embeddings.weight", vocab, HIDDEN);
        add(out, rnd, e + "LayerNorm.weight", HIDDEN);
        add(out, rnd, e + "LayerNorm.bias", HIDDEN);
        add(out, rnd, "deberta.encoder.rel_embeddings.weight", 2 * 8, HIDDEN);
        add(out, rnd, "deberta.encoder.LayerNorm.weight", HIDDEN);
        add(out, rnd, "deberta.encoder.LayerNorm.bias", HIDDEN);
        for (int l = 0; l < 2; l++) {
            String p = "deberta.encoder.layer." + l + ".";
            for (String proj : new String[] {"query_proj", "key_proj", "value_proj"}) {
                add(out, rnd, p + "attention.self." + proj + ".weight", HIDDEN, HIDDEN);
                add(out, rnd, p + "attention.self." + proj + ".bias", HIDDEN);
            }
            add(out, rnd, p + "attention.output.dense.weight", HIDDEN, HIDDEN);
            add(out, rnd, p + "attention.output.dense.bias", HIDDEN);
            add(out, rnd, p + "attention.output.LayerNorm.weight", HIDDEN);
            add(out, rnd, p + "attention.output.LayerNorm.bias", HIDDEN);
            add(out, rnd, p + "intermediate.dense.weight", FFN, HIDDEN);
            add(out, rnd, p + "intermediate.dense.bias", FFN);
            add(out, rnd, p + "output.dense.weight", HIDDEN, FFN);
            add(out, rnd, p + "output.dense.bias", HIDDEN);
            add(out, rnd, p + "output.LayerNorm.weight", HIDDEN);
            add(out, rnd, p + "output.LayerNorm.bias", HIDDEN);
        }
        add(out, rnd, "pooler.dense.weight", HIDDEN, HIDDEN);
        add(out, rnd, "pooler.dense.bias", HIDDEN);
        add(out, rnd, "classifier.weight", 2, HIDDEN);
        add(out, rnd, "classifier.bias", 2);
        out.write();
        String labels = maliciousFirst ? "{\"0\": \"MALICIOUS\", \"1\": \"BENIGN\"}"
                : "{\"0\": \"BENIGN\", \"1\": \"MALICIOUS\"}";
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["DebertaV2ForSequenceClassification"], "model_type": "deberta-v2",
                 "hidden_size": %d, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": %d,
                 "vocab_size": %d, "hidden_act": "gelu", "pooler_hidden_act": "gelu", "layer_norm_eps": 1e-7,
                 "max_position_embeddings": 64, "relative_attention": true, "position_buckets": 8,
                 "max_relative_positions": -1, "pos_att_type": ["p2c", "c2p"], "norm_rel_ebd": "layer_norm",
                 "share_att_key": true, "position_biased_input": false, "type_vocab_size": 0, "id2label": %s}
                """.formatted(HIDDEN, FFN, vocab, labels));
        return dir;
    }

    private static void add(SafetensorsWriter out, Random rnd, String name, long... shape) {
        int count = 1;
        for (long s : shape) {
            count *= (int) s;
        }
        float[] v = new float[count];
        boolean normWeight = name.endsWith("LayerNorm.weight");
        for (int i = 0; i < count; i++) {
            v[i] = normWeight ? 1f + 0.2f * (float) rnd.nextGaussian() : 0.5f * (float) rnd.nextGaussian();
        }
        out.addFloats(name, SafetensorsDtype.F32, shape, v);
    }

    /**
     * A SentencePiece {@code ModelProto} with only pieces: the first three are control pieces, the fourth is
     * unknown, words score higher than letters so whole words win. No normalizer spec: identity normalization,
     * dummy prefix, extra whitespace removed (the defaults).
     */
    private static byte[] spmModel(List<String> pieces) {
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        for (int i = 0; i < pieces.size(); i++) {
            ByteArrayOutputStream piece = new ByteArrayOutputStream();
            byte[] text = pieces.get(i).getBytes(StandardCharsets.UTF_8);
            piece.write(0x0A); // field 1, piece: length-delimited
            varint(piece, text.length);
            piece.writeBytes(text);
            piece.write(0x15); // field 2, score: fixed32
            int bits = Float.floatToIntBits(pieces.get(i).length() > 1 ? -1f : -5f);
            for (int b = 0; b < 4; b++) {
                piece.write(bits >>> (8 * b));
            }
            int type = i < 3 && i != 0 || i == 0 ? 3 : i == 3 ? 2 : 1; // control, unknown, normal
            piece.write(0x18); // field 3, type: varint
            varint(piece, type);
            model.write(0x0A); // ModelProto field 1, pieces
            varint(model, piece.size());
            model.writeBytes(piece.toByteArray());
        }
        return model.toByteArray();
    }

    private static void varint(ByteArrayOutputStream out, int v) {
        while ((v & ~0x7F) != 0) {
            out.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write(v);
    }
}
