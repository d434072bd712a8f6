package org.llama4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Llama tokenizer with tiktoken semantics: Meta's 400,000/25,000-character chunking, special-token splitting
 * (when allowed), the family's pre-tokenizer pattern, then byte-level BPE by rank on each piece. Ids are ranks
 * for the BPE tokens and {@code rankCount() + i} for special token {@code i}. Immutable and thread-safe;
 * {@link #encode} allocates only per-call scratch space, so encoding many short fragments is cheap.
 * Build one with {@link TokenizerLoader#load} or {@link #create}.
 */
public final class Tokenizer {
    private final TokenizerFamily family;
    private final BytePairEncoder bpe;
    private final int rankCount;
    private final String[] specialTexts;
    private final byte[][] specialBytes;
    private final Map<String, Integer> specialIds;
    private final SpecialTokenMatcher specialMatcher;
    private final int bosId;
    private final int eosId;
    private final int eotId;
    private final int[] stopTokenIds;

    private Tokenizer(TokenizerFamily family, BytePairEncoder bpe, List<String> specialTokens) {
        this.family = family;
        this.bpe = bpe;
        this.rankCount = bpe.size();
        this.specialTexts = specialTokens.toArray(String[]::new);
        this.specialBytes = new byte[specialTexts.length][];
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < specialTexts.length; i++) {
            specialBytes[i] = specialTexts[i].getBytes(StandardCharsets.UTF_8);
            Integer previous = ids.putIfAbsent(specialTexts[i], rankCount + i);
            if (previous != null) {
                throw new IllegalArgumentException("special token " + specialTexts[i] + " has two ids, "
                        + previous + " and " + (rankCount + i));
            }
        }
        this.specialIds = Collections.unmodifiableMap(ids);
        this.specialMatcher = new SpecialTokenMatcher(ids);
        this.bosId = requiredSpecial(family.bosToken());
        this.eosId = requiredSpecial(family.eosToken());
        this.eotId = requiredSpecial(family.eotToken());
        this.stopTokenIds = family.stopTokens().stream().map(ids::get).filter(java.util.Objects::nonNull)
                .mapToInt(Integer::intValue).toArray();
    }

    /**
     * @param rankedTokens  the BPE tokens' bytes, index = rank = id; all 256 single bytes must be present
     * @param specialTokens the special tokens' text in id order, ids {@code rankedTokens.length} onwards
     * @throws IllegalArgumentException when the vocabulary cannot work as a byte-level BPE of this family
     */
    public static Tokenizer create(TokenizerFamily family, byte[][] rankedTokens, List<String> specialTokens) {
        return new Tokenizer(family, new BytePairEncoder(rankedTokens), specialTokens);
    }

    static Tokenizer create(TokenizerFamily family, BytePairEncoder bpe, List<String> specialTokens) {
        return new Tokenizer(family, bpe, specialTokens);
    }

    private int requiredSpecial(String text) {
        Integer id = specialIds.get(text);
        if (id == null) {
            throw new IllegalArgumentException(family + " tokenizer needs the special token " + text
                    + ", which the vocabulary lacks");
        }
        return id;
    }

    public TokenizerFamily family() {
        return family;
    }

    /** Number of ids: BPE ranks plus special tokens. */
    public int vocabularySize() {
        return rankCount + specialTexts.length;
    }

    /** Number of BPE tokens; ids from here on are special tokens. */
    public int rankCount() {
        return rankCount;
    }

    public int bosId() {
        return bosId;
    }

    /** Meta's end-of-text id ({@code <|end_of_text|>}). */
    public int eosId() {
        return eosId;
    }

    /** End of turn ({@code <|eot|>} in Llama 4, {@code <|eot_id|>} in Llama 3). */
    public int eotId() {
        return eotId;
    }

    /** Ids that end generation in Meta's reference (end of text, end of message, end of turn). */
    public int[] stopTokenIds() {
        return stopTokenIds.clone();
    }

    public OptionalInt specialTokenId(String text) {
        Integer id = specialIds.get(text);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** All special tokens, text to id, in id order. */
    public Map<String, Integer> specialTokens() {
        return specialIds;
    }

    public boolean isSpecial(int id) {
        return id >= rankCount && id < vocabularySize();
    }

    /** The bytes id {@code id} stands for (a special token's UTF-8 text). */
    public byte[] tokenBytes(int id) {
        checkId(id);
        return id < rankCount ? bpe.bytesOf(id) : specialBytes[id - rankCount].clone();
    }

    /** A readable form of one token: its text, with U+FFFD where it holds only part of a UTF-8 sequence. */
    public String tokenText(int id) {
        checkId(id);
        return id < rankCount ? new String(bpe.bytesOf(id), StandardCharsets.UTF_8) : specialTexts[id - rankCount];
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocabularySize()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, "
                    + vocabularySize() + ")");
        }
    }

    /** Encodes without adding BOS/EOS, exactly as Meta's {@code Tokenizer.encode(text, bos=False, eos=False)}. */
    public int[] encode(String text, SpecialTokens specials) {
        IntBuffer out = new IntBuffer(text.length() / 3 + 4);
        new Encoding(text, specials, out).run();
        return out.toArray();
    }

    /** The UTF-8 bytes the ids stand for, special tokens included as their text. */
    public byte[] decodeBytes(int[] ids) {
        int length = 0;
        for (int id : ids) {
            checkId(id);
            length += id < rankCount ? bpe.lengthOf(id) : specialBytes[id - rankCount].length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (int id : ids) {
            if (id < rankCount) {
                bpe.copyBytes(id, out, at);
                at += bpe.lengthOf(id);
            } else {
                byte[] b = specialBytes[id - rankCount];
                System.arraycopy(b, 0, out, at, b.length);
                at += b.length;
            }
        }
        return out;
    }

    /** Decodes to text; bytes that are not valid UTF-8 become U+FFFD (per maximal ill-formed subpart). */
    public String decode(int[] ids) {
        byte[] bytes = decodeBytes(ids);
        StringBuilder text = new StringBuilder(bytes.length);
        Utf8.decode(bytes, 0, bytes.length, text, true);
        return text.toString();
    }

    /** A decoder for ids that arrive one at a time (generation). */
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    /** Appends token {@code id}'s bytes to {@code dst} at {@code at}; returns the new end. */
    int appendBytes(int id, byte[] dst, int at) {
        if (id < rankCount) {
            bpe.copyBytes(id, dst, at);
            return at + bpe.lengthOf(id);
        }
        byte[] b = specialBytes[id - rankCount];
        System.arraycopy(b, 0, dst, at, b.length);
        return at + b.length;
    }

    int tokenLength(int id) {
        checkId(id);
        return id < rankCount ? bpe.lengthOf(id) : specialBytes[id - rankCount].length;
    }

    /** Per-call state: the current window of code points and the UTF-8 bytes of the current piece. */
    private final class Encoding {
        private final String text;
        private final SpecialTokens specials;
        private final IntBuffer out;
        private final int[] window;
        private byte[] piece = new byte[64];

        Encoding(String text, SpecialTokens specials, IntBuffer out) {
            this.text = text;
            this.specials = specials;
            this.out = out;
            this.window = new int[Math.min(text.length(), MetaChunking.MAX_ENCODE_CHARS)];
        }

        void run() {
            int i = 0;
            int n = text.length();
            while (i < n) {
                int count = 0;
                while (i < n && count < window.length) {
                    char c = text.charAt(i++);
                    int cp = c;
                    if (Character.isHighSurrogate(c) && i < n && Character.isLowSurrogate(text.charAt(i))) {
                        cp = Character.toCodePoint(c, text.charAt(i++));
                    } else if (Character.isSurrogate(c)) {
                        cp = 0xFFFD; // a lone surrogate has no UTF-8 form; tiktoken replaces it likewise
                    }
                    window[count++] = cp;
                }
                MetaChunking.splitRuns(window, 0, count, this::chunk);
            }
        }

        private void chunk(int start, int end) {
            if (specials == SpecialTokens.ALL) {
                SpecialTokenMatcher.Match m;
                while ((m = specialMatcher.find(window, start, end)) != null) {
                    ordinary(start, m.start());
                    out.add(m.id());
                    start = m.end();
                }
            }
            ordinary(start, end);
        }

        private void ordinary(int start, int end) {
            PreTokenizer pre = family.preTokenizer();
            for (int s = start; s < end; ) {
                int e = pre.pieceEnd(window, s, end);
                encodePiece(s, e);
                s = e;
            }
        }

        private void encodePiece(int start, int end) {
            if (piece.length < (end - start) * 4) {
                piece = new byte[Math.max((end - start) * 4, piece.length * 2)];
            }
            int n = 0;
            for (int i = start; i < end; i++) {
                int cp = window[i];
                if (cp < 0x80) {
                    piece[n++] = (byte) cp;
                } else if (cp < 0x800) {
                    piece[n++] = (byte) (0xC0 | (cp >>> 6));
                    piece[n++] = (byte) (0x80 | (cp & 0x3F));
                } else if (cp < 0x10000) {
                    piece[n++] = (byte) (0xE0 | (cp >>> 12));
                    piece[n++] = (byte) (0x80 | ((cp >>> 6) & 0x3F));
                    piece[n++] = (byte) (0x80 | (cp & 0x3F));
                } else {
                    piece[n++] = (byte) (0xF0 | (cp >>> 18));
                    piece[n++] = (byte) (0x80 | ((cp >>> 12) & 0x3F));
                    piece[n++] = (byte) (0x80 | ((cp >>> 6) & 0x3F));
                    piece[n++] = (byte) (0x80 | (cp & 0x3F));
                }
            }
            bpe.encode(piece, n, out);
        }
    }

    @Override
    public String toString() {
        return "Tokenizer[" + family + ", " + rankCount + " ranks + " + specialTexts.length + " special tokens]";
    }
}
