package org.llama4j.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
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
    /**
     * Field names are neither interned nor canonicalized: {@code model.vocab} has 200k distinct keys, which would
     * otherwise go through {@link String#intern} and a symbol table that only grows.
     */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build());

    private HuggingFaceTokenizerReader() {
    }

    static Tokenizer read(Path tokenizerJson, Path tokenizerConfig) throws IOException {
        String source = tokenizerJson.toString();
        Document doc;
        try (JsonParser parser = JSON.createParser(tokenizerJson.toFile())) {
            doc = Document.parse(parser);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new ModelFormatException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode root = doc.root;
        JsonNode model = doc.model;
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

        Vocab vocab = doc.vocab;
        if (vocab == null || vocab.size == 0) {
            throw new ModelFormatException(source + ": model.vocab: expected an object token -> id, found "
                    + abbreviate(vocab == null ? model.path("vocab").toString() : "{}"));
        }
        int count = vocab.size;
        String[] tokens = new String[count];
        for (int i = 0; i < count; i++) {
            int id = vocab.ids[i];
            String nonInt = vocab.nonIntValues.get(i);
            if (nonInt != null || id < 0 || id >= count || tokens[id] != null) {
                throw new ModelFormatException(source + ": model.vocab['" + vocab.keys[i] + "']: expected a unique id in [0, "
                        + count + "), found " + (nonInt != null ? nonInt : Integer.toString(id)));
            }
            tokens[id] = vocab.keys[i];
        }
        BytePairEncoder bpe;
        try {
            bpe = new BytePairEncoder(ByteLevelVocabulary.decodeTokens(source + " model.vocab", tokens, count));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": model.vocab: " + e.getMessage(), e);
        }
        MergeList merges = doc.merges;
        if (doc.mergesError != null) {
            throw new ModelFormatException(source + " model.merges" + doc.mergesError);
        }
        if (merges == null) {
            // Not an array: read as the tree reader always did (a missing or scalar "merges" is an empty list).
            merges = new MergeList();
            for (String[] pair : readMerges(source + " model.merges", model.path("merges"))) {
                merges.add(pair[0], pair[1]);
            }
        }
        ByteLevelVocabulary.verifyMerges(source + " model.merges", bpe, merges);

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
                throw new ModelFormatException(source + mergeShapeError(out.size(), m.toString()));
            }
            out.add(pair);
        }
        return out;
    }

    private static String mergeShapeError(int index, String found) {
        return "[" + index + "]: expected [\"left\", \"right\"] or \"left right\", found " + abbreviate(found);
    }

    /** The value at the parser's current token, as a tree (a JSON null as NullNode). */
    private static JsonNode tree(JsonParser parser) throws IOException {
        JsonNode node = JSON.readTree(parser);
        return node != null ? node : com.fasterxml.jackson.databind.node.NullNode.getInstance();
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 120) + "...";
    }

    /** {@code model.vocab} as streamed: entries in file order; a non-integer value's JSON text is kept for errors. */
    private static final class Vocab {
        String[] keys = new String[1 << 12];
        int[] ids = new int[1 << 12];
        int size;
        final HashMap<Integer, String> nonIntValues = new HashMap<>();

        void add(String key, int id) {
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                ids = Arrays.copyOf(ids, size * 2);
            }
            keys[size] = key;
            ids[size++] = id;
        }
    }

    /**
     * The document with the two big arrays streamed: {@code model.vocab} (when an object) into {@link Vocab} and
     * {@code model.merges} (when an array) into a {@link MergeList}, everything else as a tree. A malformed merge
     * stops the decoding of merges and is kept as {@link #mergesError}, reported after the vocabulary's checks as
     * the tree reader did.
     */
    private static final class Document {
        JsonNode root = MissingNode.getInstance();
        JsonNode model = MissingNode.getInstance();
        Vocab vocab;
        MergeList merges;
        String mergesError;

        static Document parse(JsonParser parser) throws IOException {
            Document doc = new Document();
            JsonToken first = parser.nextToken();
            if (first == null) {
                return doc;
            }
            if (first != JsonToken.START_OBJECT) {
                doc.root = tree(parser);
                return doc;
            }
            ObjectNode root = JsonNodeFactory.instance.objectNode();
            doc.root = root;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (name.equals("model") && value == JsonToken.START_OBJECT) {
                    ObjectNode model = JsonNodeFactory.instance.objectNode();
                    doc.model = model;
                    doc.vocab = null;
                    doc.merges = null;
                    doc.mergesError = null;
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        String field = parser.currentName();
                        JsonToken v = parser.nextToken();
                        if (field.equals("vocab") && v == JsonToken.START_OBJECT) {
                            model.remove(field);
                            doc.vocab = readVocab(parser);
                        } else if (field.equals("merges") && v == JsonToken.START_ARRAY) {
                            model.remove(field);
                            doc.readMerges(parser);
                        } else {
                            if (field.equals("vocab")) {
                                doc.vocab = null;
                            } else if (field.equals("merges")) {
                                doc.merges = null;
                                doc.mergesError = null;
                            }
                            model.set(field, tree(parser));
                        }
                    }
                    root.set(name, model);
                } else {
                    if (name.equals("model")) {
                        doc.model = MissingNode.getInstance();
                        doc.vocab = null;
                        doc.merges = null;
                        doc.mergesError = null;
                    }
                    root.set(name, tree(parser));
                }
            }
            if (!root.has("model")) {
                doc.model = MissingNode.getInstance();
            } else if (!root.get("model").isObject()) {
                doc.model = root.get("model");
            }
            return doc;
        }

        private static Vocab readVocab(JsonParser parser) throws IOException {
            Vocab vocab = new Vocab();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                JsonToken v = parser.nextToken();
                if (v == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() == JsonParser.NumberType.INT) {
                    vocab.add(key, parser.getIntValue());
                } else {
                    vocab.nonIntValues.put(vocab.size, tree(parser).toString());
                    vocab.add(key, -1);
                }
            }
            return vocab;
        }

        /** At the merges' START_ARRAY; leaves the parser at its END_ARRAY. */
        private void readMerges(JsonParser parser) throws IOException {
            MergeList list = new MergeList();
            merges = list;
            mergesError = null;
            JsonToken t;
            while ((t = parser.nextToken()) != JsonToken.END_ARRAY) {
                if (mergesError != null) {
                    parser.skipChildren();
                    continue;
                }
                int index = list.size();
                if (t == JsonToken.VALUE_STRING) {
                    char[] c = parser.getTextCharacters();
                    int off = parser.getTextOffset();
                    int len = parser.getTextLength();
                    int space = -1;
                    for (int i = 0; i < len; i++) {
                        if (c[off + i] == ' ') {
                            space = i;
                            break;
                        }
                    }
                    if (space > 0) {
                        list.left(c, off, space);
                        list.right(c, off + space + 1, len - space - 1);
                    } else {
                        mergesError = mergeShapeError(index, TextNode.valueOf(parser.getText()).toString());
                    }
                } else if (t == JsonToken.START_ARRAY) {
                    String bad = readPair(parser, list);
                    if (bad != null) {
                        mergesError = mergeShapeError(index, bad);
                    }
                } else {
                    mergesError = mergeShapeError(index, tree(parser).toString());
                }
            }
        }

        /**
         * At a merge's START_ARRAY: adds ["left", "right"] to the list and returns null, or else consumes the array
         * and returns its JSON text. Strictness: elements must be strings (the tree reader took any value's text).
         */
        private static String readPair(JsonParser parser, MergeList list) throws IOException {
            var found = JsonNodeFactory.instance.arrayNode();
            JsonToken t = parser.nextToken();
            if (t == JsonToken.VALUE_STRING) {
                list.left(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
                t = parser.nextToken();
                if (t != JsonToken.VALUE_STRING) {
                    found.add(list.pendingLeftText());
                } else {
                    // Decode before the next token may reuse the parser's buffer; take it back if the pair goes on.
                    list.right(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
                    t = parser.nextToken();
                    if (t == JsonToken.END_ARRAY) {
                        return null;
                    }
                    String[] pair = list.removeLast();
                    found.add(pair[0]);
                    found.add(pair[1]);
                }
            }
            while (t != JsonToken.END_ARRAY) {
                found.add(tree(parser));
                t = parser.nextToken();
            }
            return found.toString();
        }
    }
}
