package org.llama4j.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a tiny Hugging Face {@code tokenizer.json} in the layout transformers' TikTokenConverter produces (256 byte
 * tokens, a few merged tokens, Llama 4's pattern and special tokens), so loaders and the CLI are testable without
 * the shared fixtures. The GPT-2 byte alphabet is re-implemented here on purpose, independently of the loader's.
 */
public final class TinyTokenizerFiles {
    public static final String LLAMA4_PATTERN = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
            + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?"
            + "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Merged tokens after the 256 bytes: ids 256, 257, ... */
    public static final List<String> MERGED = List.of("he", "ll", "hell", "hello", " w", "or", " wor", "ld", " world");
    /** Special tokens after the merged ones, in Llama 4's order (only the first few). */
    public static final List<String> SPECIALS = List.of("<|begin_of_text|>", "<|end_of_text|>", "<|fim_prefix|>",
            "<|fim_middle|>", "<|fim_suffix|>", "<|header_start|>", "<|header_end|>", "<|eom|>", "<|eot|>");

    private TinyTokenizerFiles() {
    }

    public static String byteLevel(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte value : bytes) {
            int b = value & 0xFF;
            if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174)) {
                sb.append((char) b);
            } else {
                int n = 0;
                for (int x = 0; x < b; x++) {
                    if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174))) {
                        n++;
                    }
                }
                sb.append((char) (256 + n));
            }
        }
        return sb.toString();
    }

    /** Writes {@code tokenizer.json} into {@code folder} and returns its path. */
    public static Path writeTokenizerJson(Path folder) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").put("ignore_merges", true).put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        List<byte[]> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(new byte[] {(byte) b});
        }
        for (String m : MERGED) {
            tokens.add(m.getBytes(StandardCharsets.UTF_8));
        }
        for (int id = 0; id < tokens.size(); id++) {
            vocab.put(byteLevel(tokens.get(id)), id);
        }
        // Every split of every merged token into two tokens, ordered by the merged token's id.
        ArrayNode merges = model.putArray("merges");
        for (String m : MERGED) {
            for (int cut = 1; cut < m.length(); cut++) {
                String left = m.substring(0, cut);
                String right = m.substring(cut);
                if (isToken(left) && isToken(right)) {
                    merges.addArray().add(byteLevel(left.getBytes(StandardCharsets.UTF_8)))
                            .add(byteLevel(right.getBytes(StandardCharsets.UTF_8)));
                }
            }
        }
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject();
        split.put("type", "Split").put("behavior", "Isolated").put("invert", false);
        split.putObject("pattern").put("Regex", LLAMA4_PATTERN);
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.size(); i++) {
            added.addObject().put("id", tokens.size() + i).put("content", SPECIALS.get(i)).put("special", true);
        }
        Path file = folder.resolve("tokenizer.json");
        json.writeValue(file.toFile(), root);
        return file;
    }

    private static boolean isToken(String s) {
        return s.length() == 1 || MERGED.contains(s);
    }
}
