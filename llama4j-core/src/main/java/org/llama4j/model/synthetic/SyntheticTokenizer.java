package org.llama4j.model.synthetic;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small byte-level BPE vocabulary in Llama 4's layout, for synthetic models: ids {@code 0..255} are the single
 * bytes (id = byte value), then merged tokens in merge order, then the Llama 4 special tokens
 * ({@link Llama4SpecialTokens}), as many as fit (a quarter of the vocabulary, at most 2048, at least
 * through {@code <|patch|>}). With {@link SyntheticModelConfig#FULL_VOCAB_SIZE} that is 200000 BPE tokens and all
 * 2048 specials, at Llama 4's ids.
 *
 * <p>The merges are learned with classic BPE (most frequent adjacent pair, ties to the lowest ids) from a short
 * built-in English text pre-split into words like Llama 4's pre-tokenizer does, so ordinary English encodes into
 * few tokens. When the text runs out of repeated pairs before the vocabulary is full, the rest is filled with
 * deterministic letter extensions of existing words ({@code "the" + "x"} …), so that any vocabulary size works.
 * Every merge's parts and result are tokens, and a token's id order equals its merge rank, which is what both
 * llama.cpp ({@code gpt2} merges) and tiktoken-style ranking expect.
 *
 * @param tokens      every token in GPT-2 byte-to-unicode form (specials as their text)
 * @param tokenTypes  1 (normal) or 3 (control) per token
 * @param merges      {@code "left right"} in rank order, GPT-2 byte-to-unicode form
 * @param bpeTokenCount number of non-special tokens (the first special's id)
 */
public record SyntheticTokenizer(String[] tokens, int[] tokenTypes, String[] merges, int bpeTokenCount) {

    public static final int TOKEN_TYPE_NORMAL = 1;
    public static final int TOKEN_TYPE_CONTROL = 3;

    /** Smallest vocabulary that holds the 256 byte tokens and the specials through {@code <|patch|>}. */
    public static final int MIN_VOCAB_SIZE = 4 * (Llama4SpecialTokens.PATCH + 1);

    private static final String TRAINING_TEXT_RESOURCE = "bpe-training-text.txt";

    /**
     * Approximation of Llama 4's pre-tokenizer for the (ASCII) training text: merges never cross these
     * boundaries, so they stay reachable under llama.cpp's {@code llama4} pre-tokenizer.
     */
    private static final Pattern WORDS = Pattern.compile(
            "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+(?:'[a-z]{1,2})?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    private static final String[] BYTE_TO_UNICODE = byteToUnicode();

    public SyntheticTokenizer {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(tokenTypes, "tokenTypes");
        Objects.requireNonNull(merges, "merges");
    }

    /** Number of special tokens a vocabulary of {@code vocabSize} gets. */
    public static int specialTokenCount(int vocabSize) {
        return Math.min(Llama4SpecialTokens.COUNT, vocabSize / 4);
    }

    /** Builds the vocabulary of {@code vocabSize} tokens; the same size always gives the same vocabulary. */
    public static SyntheticTokenizer build(int vocabSize) {
        if (vocabSize < MIN_VOCAB_SIZE) {
            throw new IllegalArgumentException("vocab_size " + vocabSize + " is too small for a Llama 4 tokenizer: "
                    + "it needs at least " + MIN_VOCAB_SIZE + " tokens (256 byte tokens, merges and the special "
                    + "tokens through <|patch|>)");
        }
        int specials = specialTokenCount(vocabSize);
        int bpeCount = vocabSize - specials;
        Builder b = new Builder(bpeCount);
        b.learnFrom(trainingText());
        b.fillWithLetterExtensions();

        String[] tokens = new String[vocabSize];
        int[] types = new int[vocabSize];
        for (int i = 0; i < bpeCount; i++) {
            tokens[i] = toUnicode(b.tokens.get(i));
            types[i] = TOKEN_TYPE_NORMAL;
        }
        List<String> names = Llama4SpecialTokens.names();
        for (int i = 0; i < specials; i++) {
            tokens[bpeCount + i] = names.get(i);
            types[bpeCount + i] = TOKEN_TYPE_CONTROL;
        }
        String[] merges = new String[b.merges.size()];
        for (int i = 0; i < merges.length; i++) {
            int[] m = b.merges.get(i);
            merges[i] = tokens[m[0]] + " " + tokens[m[1]];
        }
        return new SyntheticTokenizer(tokens, types, merges, bpeCount);
    }

    public int vocabSize() {
        return tokens.length;
    }

    public int bosId() {
        return bpeTokenCount + Llama4SpecialTokens.BEGIN_OF_TEXT;
    }

    public int eosId() {
        return bpeTokenCount + Llama4SpecialTokens.END_OF_TEXT;
    }

    public int eotId() {
        return bpeTokenCount + Llama4SpecialTokens.EOT;
    }

    public int eomId() {
        return bpeTokenCount + Llama4SpecialTokens.EOM;
    }

    public int padId() {
        return bpeTokenCount + Llama4SpecialTokens.FINETUNE_RIGHT_PAD;
    }

    /** The id of a token given as raw text (bytes of its UTF-8 form for BPE tokens), or -1. */
    public int idOf(String text) {
        String unicode = toUnicode(text.getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i].equals(unicode) || (tokenTypes[i] == TOKEN_TYPE_CONTROL && tokens[i].equals(text))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Encodes one pre-token (no special tokens, no pre-tokenizer split) by applying merges lowest rank first, the
     * way llama.cpp and tiktoken do within a word. For tests and diagnostics; the engine has its own tokenizer.
     */
    public int[] encodeWord(String word) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < bpeTokenCount; i++) {
            ids.put(tokens[i], i);
        }
        Map<String, Integer> rank = new HashMap<>();
        for (int i = 0; i < merges.length; i++) {
            rank.put(merges[i], i);
        }
        List<String> parts = new ArrayList<>();
        for (byte by : word.getBytes(StandardCharsets.UTF_8)) {
            parts.add(BYTE_TO_UNICODE[by & 0xff]);
        }
        while (parts.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = rank.get(parts.get(i) + " " + parts.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            parts.set(best, parts.get(best) + parts.remove(best + 1));
        }
        return parts.stream().mapToInt(ids::get).toArray();
    }

    /** GPT-2's printable stand-in for each byte (space is {@code Ġ}, newline {@code Ċ}). */
    public static String toUnicode(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte by : bytes) {
            sb.append(BYTE_TO_UNICODE[by & 0xff]);
        }
        return sb.toString();
    }

    private static String[] byteToUnicode() {
        String[] map = new String[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = new String(Character.toChars(printable ? b : next++));
        }
        return map;
    }

    static String trainingText() {
        try (InputStream in = SyntheticTokenizer.class.getResourceAsStream(TRAINING_TEXT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + TRAINING_TEXT_RESOURCE + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Grows the BPE vocabulary: token bytes by id, merges as id pairs. */
    private static final class Builder {
        final int target;
        final List<byte[]> tokens = new ArrayList<>();
        final Map<String, Integer> idByKey = new HashMap<>();
        final List<int[]> merges = new ArrayList<>();

        Builder(int target) {
            this.target = target;
            for (int b = 0; b < 256; b++) {
                add(new byte[] {(byte) b});
            }
        }

        private int add(byte[] bytes) {
            int id = tokens.size();
            tokens.add(bytes);
            idByKey.put(key(bytes), id);
            return id;
        }

        private static String key(byte[] bytes) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }

        private boolean full() {
            return tokens.size() >= target;
        }

        /** Merges {@code left right} into a new token; false when the concatenation already is a token. */
        private boolean merge(int left, int right) {
            byte[] a = tokens.get(left);
            byte[] c = tokens.get(right);
            byte[] joined = Arrays.copyOf(a, a.length + c.length);
            System.arraycopy(c, 0, joined, a.length, c.length);
            if (idByKey.containsKey(key(joined))) {
                return false;
            }
            add(joined);
            merges.add(new int[] {left, right});
            return true;
        }

        void learnFrom(String text) {
            Map<String, Integer> wordCounts = new LinkedHashMap<>();
            Matcher m = WORDS.matcher(text);
            while (m.find()) {
                wordCounts.merge(m.group(), 1, Integer::sum);
            }
            List<int[]> words = new ArrayList<>();
            List<Integer> counts = new ArrayList<>();
            wordCounts.forEach((w, n) -> {
                byte[] bytes = w.getBytes(StandardCharsets.UTF_8);
                int[] ids = new int[bytes.length];
                for (int i = 0; i < bytes.length; i++) {
                    ids[i] = bytes[i] & 0xff;
                }
                words.add(ids);
                counts.add(n);
            });
            while (!full()) {
                Map<Long, Integer> pairCounts = new HashMap<>();
                for (int w = 0; w < words.size(); w++) {
                    int[] ids = words.get(w);
                    for (int i = 0; i + 1 < ids.length; i++) {
                        pairCounts.merge(((long) ids[i] << 32) | ids[i + 1], counts.get(w), Integer::sum);
                    }
                }
                long best = -1;
                int bestCount = 0;
                for (Map.Entry<Long, Integer> e : pairCounts.entrySet()) {
                    int n = e.getValue();
                    // ties go to the lowest (left, right) ids so the result does not depend on hash order
                    if (n >= 2 && (n > bestCount || (n == bestCount && e.getKey() < best))) {
                        best = e.getKey();
                        bestCount = n;
                    }
                }
                if (best < 0) {
                    return; // no pair occurs twice: the text has taught all it can
                }
                int left = (int) (best >>> 32);
                int right = (int) best;
                if (!merge(left, right)) {
                    throw new AssertionError("BPE produced an existing token");
                }
                int merged = tokens.size() - 1;
                for (int w = 0; w < words.size(); w++) {
                    words.set(w, replacePair(words.get(w), left, right, merged));
                }
            }
        }

        private static int[] replacePair(int[] ids, int left, int right, int merged) {
            int[] out = new int[ids.length];
            int n = 0;
            for (int i = 0; i < ids.length; i++) {
                if (i + 1 < ids.length && ids[i] == left && ids[i + 1] == right) {
                    out[n++] = merged;
                    i++;
                } else {
                    out[n++] = ids[i];
                }
            }
            return n == ids.length ? ids : Arrays.copyOf(out, n);
        }

        /** Breadth-first letter extensions of the lowercase (optionally space-led) words until the target size. */
        void fillWithLetterExtensions() {
            Deque<Integer> queue = new ArrayDeque<>();
            for (int id = 0; id < tokens.size(); id++) {
                if (isLowercaseWord(tokens.get(id))) {
                    queue.add(id);
                }
            }
            while (!full()) {
                int base = queue.remove();
                for (int letter = 'a'; letter <= 'z' && !full(); letter++) {
                    if (merge(base, letter)) {
                        queue.add(tokens.size() - 1);
                    }
                }
            }
        }

        private static boolean isLowercaseWord(byte[] bytes) {
            int start = bytes.length > 1 && bytes[0] == ' ' ? 1 : 0;
            for (int i = start; i < bytes.length; i++) {
                if (bytes[i] < 'a' || bytes[i] > 'z') {
                    return false;
                }
            }
            return bytes.length > start;
        }
    }
}
