package org.llama4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.llama4j.format.ModelFormatException;

/**
 * Reads a Hugging Face {@code tokenizer.json} of a tiktoken-derived Llama tokenizer (as transformers'
 * {@code TikTokenConverter} writes it): a byte-level BPE whose vocab ids are the ranks, a {@code Split} pre-tokenizer
 * with Meta's pattern, added tokens for the specials. {@code tokenizer_config.json}'s {@code added_tokens_decoder},
 * when present, may add special tokens that {@code tokenizer.json} lacks.
 */
final class HuggingFaceTokenizerReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HuggingFaceTokenizerReader() {
    }

    static Tokenizer read(Path tokenizerJson, Path tokenizerConfig) throws IOException {
        String source = tokenizerJson.toString();
        JsonNode root;
        try {
            root = JSON.readTree(tokenizerJson.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new ModelFormatException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new ModelFormatException(source + ": model.type: expected \"BPE\", found "
                    + (model.has("type") ? model.get("type") : "nothing"));
        }
        String pattern = findSplitPattern(root.path("pre_tokenizer"));
        if (pattern == null) {
            throw new ModelFormatException(source + ": pre_tokenizer: expected a Split with a Regex pattern"
                    + " (Meta's Llama pattern), found " + abbreviate(root.path("pre_tokenizer").toString()));
        }
        TokenizerFamily family = familyFor(pattern).orElseThrow(() -> new ModelFormatException(source
                + ": pre_tokenizer pattern " + pattern + " is not one of the supported Llama 4 / Llama 3 patterns"));

        JsonNode vocab = model.path("vocab");
        if (!vocab.isObject() || vocab.isEmpty()) {
            throw new ModelFormatException(source + ": model.vocab: expected an object token -> id, found "
                    + abbreviate(vocab.toString()));
        }
        int count = vocab.size();
        String[] tokens = new String[count];
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            int id = e.getValue().asInt(-1);
            if (!e.getValue().isInt() || id < 0 || id >= count || tokens[id] != null) {
                throw new ModelFormatException(source + ": model.vocab['" + e.getKey() + "']: expected a unique id in [0, "
                        + count + "), found " + e.getValue());
            }
            tokens[id] = e.getKey();
        }
        BytePairEncoder bpe;
        try {
            bpe = new BytePairEncoder(ByteLevelVocabulary.decodeTokens(source + " model.vocab", tokens, count));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": model.vocab: " + e.getMessage(), e);
        }
        ByteLevelVocabulary.verifyMerges(source + " model.merges", bpe, readMerges(source, model.path("merges")));

        TreeMap<Integer, String> specials = new TreeMap<>();
        for (JsonNode added : root.path("added_tokens")) {
            addSpecial(source + " added_tokens", specials, added.path("id").asInt(-1), added.path("content").asText(null), count);
        }
        if (tokenizerConfig != null && Files.exists(tokenizerConfig)) {
            JsonNode config;
            try {
                config = JSON.readTree(tokenizerConfig.toFile());
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw new ModelFormatException(tokenizerConfig + ": not valid JSON: " + e.getOriginalMessage(), e);
            }
            for (Map.Entry<String, JsonNode> e : config.path("added_tokens_decoder").properties()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new ModelFormatException(tokenizerConfig + ": added_tokens_decoder key '" + e.getKey()
                            + "': expected a token id", ex);
                }
                addSpecial(tokenizerConfig + " added_tokens_decoder", specials, id,
                        e.getValue().path("content").asText(null), count);
            }
        }
        List<String> specialList = new ArrayList<>(specials.size());
        for (Map.Entry<Integer, String> e : specials.entrySet()) {
            if (e.getKey() != count + specialList.size()) {
                throw new ModelFormatException(source + ": added tokens: expected id " + (count + specialList.size())
                        + " next (special tokens follow the " + count + " BPE tokens without gaps), found id " + e.getKey());
            }
            specialList.add(e.getValue());
        }
        try {
            return Tokenizer.create(family, bpe, specialList);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": " + e.getMessage(), e);
        }
    }

    static java.util.Optional<TokenizerFamily> familyFor(String pattern) {
        for (TokenizerFamily f : TokenizerFamily.values()) {
            if (f.preTokenizer().pattern().equals(pattern)) {
                return java.util.Optional.of(f);
            }
        }
        return java.util.Optional.empty();
    }

    private static void addSpecial(String where, TreeMap<Integer, String> specials, int id, String content, int rankCount) {
        if (id < rankCount || content == null || content.isEmpty()) {
            throw new ModelFormatException(where + ": expected an added token with an id >= " + rankCount
                    + " (after the BPE vocabulary) and non-empty content, found id " + id + " content " + content);
        }
        String previous = specials.putIfAbsent(id, content);
        if (previous != null && !previous.equals(content)) {
            throw new ModelFormatException(where + ": id " + id + " is '" + content + "' here but '" + previous
                    + "' elsewhere");
        }
    }

    private static String findSplitPattern(JsonNode pre) {
        if ("Sequence".equals(pre.path("type").asText())) {
            for (JsonNode p : pre.path("pretokenizers")) {
                String found = findSplitPattern(p);
                if (found != null) {
                    return found;
                }
            }
            return null;
        }
        if ("Split".equals(pre.path("type").asText()) && pre.path("pattern").has("Regex")) {
            return pre.path("pattern").path("Regex").asText();
        }
        return null;
    }

    private static List<String[]> readMerges(String source, JsonNode merges) {
        List<String[]> out = new ArrayList<>(merges.size());
        for (JsonNode m : merges) {
            String[] pair;
            if (m.isArray() && m.size() == 2) {
                pair = new String[] {m.get(0).asText(), m.get(1).asText()};
            } else if (m.isTextual() && m.asText().indexOf(' ') > 0) {
                String s = m.asText();
                int space = s.indexOf(' ');
                pair = new String[] {s.substring(0, space), s.substring(space + 1)};
            } else {
                throw new ModelFormatException(source + "[" + out.size() + "]: expected [\"left\", \"right\"] or"
                        + " \"left right\", found " + abbreviate(m.toString()));
            }
            out.add(pair);
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 120) + "...";
    }
}
