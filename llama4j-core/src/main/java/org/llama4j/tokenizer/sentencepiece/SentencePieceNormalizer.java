package org.llama4j.tokenizer.sentencepiece;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * SentencePiece's normalization: the precompiled charsmap (longest matching rule at each position, else the
 * character unchanged), leading/trailing whitespace removal and collapsing of space runs
 * ({@code remove_extra_whitespaces}), the dummy {@code ▁} prefix ({@code add_dummy_prefix}) and spaces written as
 * {@code ▁} ({@code escape_whitespaces}). User-defined symbols are copied through unnormalized, as sentencepiece
 * does. Works on UTF-8 bytes because the charsmap rules are byte strings.
 */
public final class SentencePieceNormalizer {
    /** U+2581 LOWER ONE EIGHTH BLOCK, the visible space of SentencePiece. */
    public static final String SPACE_SYMBOL = "\u2581";
    private static final byte[] SPACE_SYMBOL_UTF8 = SPACE_SYMBOL.getBytes(StandardCharsets.UTF_8);
    private static final byte[] SPACE = {' '};
    private static final byte[] REPLACEMENT_CHAR = "\uFFFD".getBytes(StandardCharsets.UTF_8);

    private final PrecompiledCharsmap charsmap;
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final boolean whitespaceAsSuffix;
    private final byte[][] userDefinedSymbols;

    /**
     * @param charsmap null for no character mapping
     * @param userDefinedSymbols pieces of type USER_DEFINED, kept intact by normalization
     */
    public SentencePieceNormalizer(PrecompiledCharsmap charsmap, boolean addDummyPrefix,
            boolean removeExtraWhitespaces, boolean escapeWhitespaces, boolean whitespaceAsSuffix,
            List<String> userDefinedSymbols) {
        this.charsmap = charsmap;
        this.addDummyPrefix = addDummyPrefix;
        this.removeExtraWhitespaces = removeExtraWhitespaces;
        this.escapeWhitespaces = escapeWhitespaces;
        this.whitespaceAsSuffix = whitespaceAsSuffix;
        this.userDefinedSymbols = userDefinedSymbols.stream().map(s -> s.getBytes(StandardCharsets.UTF_8))
                .toArray(byte[][]::new);
    }

    public static SentencePieceNormalizer of(SentencePieceModel model, String source) {
        SentencePieceModel.NormalizerSpec spec = model.normalizer();
        PrecompiledCharsmap map = spec.precompiledCharsmap().length == 0 ? null
                : PrecompiledCharsmap.parse(spec.precompiledCharsmap(), source);
        List<String> userDefined = model.pieces().stream()
                .filter(p -> p.type() == SentencePieceModel.PieceType.USER_DEFINED)
                .map(SentencePieceModel.Piece::text).toList();
        return new SentencePieceNormalizer(map, spec.addDummyPrefix(), spec.removeExtraWhitespaces(),
                spec.escapeWhitespaces(), model.treatWhitespaceAsSuffix(), userDefined);
    }

    /** The normalized text, with {@code ▁} for spaces when whitespace is escaped. */
    public String normalize(String text) {
        byte[] input = utf8(text);
        int pos = 0;
        int end = input.length;
        ByteBuilder out = new ByteBuilder(input.length * 3 / 2 + 8);
        Prefix p = new Prefix();
        if (removeExtraWhitespaces) {
            while (pos < end) {
                normalizePrefix(input, pos, end, p);
                if (!(p.len == 1 && p.bytes[p.from] == ' ')) {
                    break;
                }
                pos += p.consumed;
            }
        }
        if (pos == end) {
            return "";
        }
        if (!whitespaceAsSuffix && addDummyPrefix) {
            out.append(escapeWhitespaces ? SPACE_SYMBOL_UTF8 : SPACE, 0, escapeWhitespaces ? 3 : 1);
        }
        boolean prevSpace = removeExtraWhitespaces;
        while (pos < end) {
            normalizePrefix(input, pos, end, p);
            int from = p.from;
            int len = p.len;
            if (prevSpace) {
                while (len > 0 && p.bytes[from] == ' ') {
                    from++;
                    len--;
                }
            }
            if (len > 0) {
                for (int i = from; i < from + len; i++) {
                    if (escapeWhitespaces && p.bytes[i] == ' ') {
                        out.append(SPACE_SYMBOL_UTF8, 0, SPACE_SYMBOL_UTF8.length);
                    } else {
                        out.append(p.bytes[i]);
                    }
                }
                prevSpace = p.bytes[from + len - 1] == ' ';
            }
            pos += p.consumed;
            if (!removeExtraWhitespaces) {
                prevSpace = false;
            }
        }
        if (removeExtraWhitespaces) {
            byte[] space = escapeWhitespaces ? SPACE_SYMBOL_UTF8 : SPACE;
            while (out.endsWith(space)) {
                out.truncate(out.size() - space.length);
            }
        }
        if (whitespaceAsSuffix && addDummyPrefix) {
            out.append(escapeWhitespaces ? SPACE_SYMBOL_UTF8 : SPACE, 0, escapeWhitespaces ? 3 : 1);
        }
        return out.toString();
    }

    /** The normalized form of the longest rule (or single character) at {@code input[pos]}. */
    private static final class Prefix {
        byte[] bytes;
        int from;
        int len;
        int consumed;
        final ByteBuilder scratch = new ByteBuilder(16);
    }

    private void normalizePrefix(byte[] input, int pos, int end, Prefix p) {
        int userDefined = longestUserDefined(input, pos, end);
        if (userDefined > 0) {
            set(p, input, pos, userDefined, userDefined);
            return;
        }
        long match = charsmap == null ? -1 : charsmap.longestMatch(input, pos, end);
        if (match >= 0) {
            p.scratch.truncate(0);
            charsmap.appendReplacement((int) match, p.scratch);
            byte[] replacement = new byte[p.scratch.size()];
            for (int i = 0; i < replacement.length; i++) {
                replacement[i] = p.scratch.byteAt(i);
            }
            set(p, replacement, 0, replacement.length, (int) (match >>> 32));
            return;
        }
        int charLen = utf8Length(input, pos, end);
        if (charLen == 0) {
            // malformed UTF-8: sentencepiece emits U+FFFD for one byte
            set(p, REPLACEMENT_CHAR, 0, REPLACEMENT_CHAR.length, 1);
        } else {
            set(p, input, pos, charLen, charLen);
        }
    }

    private static void set(Prefix p, byte[] bytes, int from, int len, int consumed) {
        p.bytes = bytes;
        p.from = from;
        p.len = len;
        p.consumed = consumed;
    }

    private int longestUserDefined(byte[] input, int pos, int end) {
        int best = 0;
        for (byte[] s : userDefinedSymbols) {
            if (s.length > best && s.length <= end - pos
                    && java.util.Arrays.equals(input, pos, pos + s.length, s, 0, s.length)) {
                best = s.length;
            }
        }
        return best;
    }

    /** Bytes of the well-formed UTF-8 character at {@code pos}, or 0 when malformed. */
    static int utf8Length(byte[] b, int pos, int end) {
        int lead = b[pos] & 0xff;
        int len = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3
                : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
        if (len == 0 || pos + len > end) {
            return 0;
        }
        for (int i = 1; i < len; i++) {
            if ((b[pos + i] & 0xc0) != 0x80) {
                return 0;
            }
        }
        return len;
    }

    /** UTF-8 of {@code text}, with each unpaired surrogate written as U+FFFD. */
    static byte[] utf8(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                        && Character.isLowSurrogate(text.charAt(i + 1));
                if (!paired) {
                    StringBuilder sb = new StringBuilder(text.length());
                    text.codePoints().forEach(cp -> sb.appendCodePoint(
                            cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE ? 0xFFFD : cp));
                    return sb.toString().getBytes(StandardCharsets.UTF_8);
                }
                i++;
            }
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
