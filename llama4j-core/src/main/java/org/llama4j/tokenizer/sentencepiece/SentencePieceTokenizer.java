package org.llama4j.tokenizer.sentencepiece;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.llama4j.format.ModelFormatException;
import org.llama4j.tokenizer.sentencepiece.SentencePieceModel.Piece;
import org.llama4j.tokenizer.sentencepiece.SentencePieceModel.PieceType;

/**
 * A SentencePiece <b>Unigram</b> tokenizer, as {@code SentencePieceProcessor::Encode} behaves: normalize (see
 * {@link SentencePieceNormalizer}), then the Viterbi segmentation that maximizes the sum of piece scores, where a
 * character no piece starts with costs {@code minScore - 10} as the unknown piece. Consecutive unknown pieces merge
 * into one; with byte fallback an unknown piece becomes its UTF-8 bytes as {@code <0xXX>} pieces instead.
 *
 * <p>Control pieces ({@code [CLS]}, {@code <s>}, ...) are never produced from text: a text containing
 * {@code "[SEP]"} is tokenized as its characters. Callers add control ids themselves.
 */
public final class SentencePieceTokenizer {
    /** Sentencepiece's penalty for an unknown character, below the worst piece score. */
    private static final float UNKNOWN_PENALTY = 10.0f;

    private final SentencePieceModel model;
    private final SentencePieceNormalizer normalizer;
    /** Pieces Viterbi may produce (NORMAL, USER_DEFINED, UNUSED) by text. */
    private final Map<String, Integer> matchable;
    /** Every piece by text, for {@link #pieceToId}. */
    private final Map<String, Integer> idOfPiece;
    private final int maxPieceChars;
    private final int unknownId;
    private final float minScore;
    private final float maxScore;
    private final int[] byteIds;

    public record Encoding(int[] ids, List<String> pieces) {
    }

    public SentencePieceTokenizer(SentencePieceModel model, String source) {
        if (model.modelType() != SentencePieceModel.ModelType.UNIGRAM) {
            throw new ModelFormatException(source + ": SentencePiece model type " + model.modelType()
                    + " is not supported (only UNIGRAM)");
        }
        this.model = model;
        this.normalizer = SentencePieceNormalizer.of(model, source);
        List<Piece> pieces = model.pieces();
        matchable = HashMap.newHashMap(pieces.size());
        idOfPiece = HashMap.newHashMap(pieces.size());
        int unk = -1;
        int longest = 0;
        float min = Float.MAX_VALUE;
        float max = Float.MIN_VALUE; // sentencepiece starts from FLT_MIN, the smallest positive float
        byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        for (int id = 0; id < pieces.size(); id++) {
            Piece p = pieces.get(id);
            if (idOfPiece.putIfAbsent(p.text(), id) != null) {
                throw new ModelFormatException(source + ": piece \"" + p.text() + "\" appears twice (ids "
                        + idOfPiece.get(p.text()) + " and " + id + ")");
            }
            switch (p.type()) {
                case NORMAL, USER_DEFINED, UNUSED -> {
                    matchable.put(p.text(), id);
                    longest = Math.max(longest, p.text().length());
                    if (p.type() == PieceType.NORMAL) {
                        min = Math.min(min, p.score());
                        max = Math.max(max, p.score());
                    }
                }
                case UNKNOWN -> {
                    if (unk >= 0) {
                        throw new ModelFormatException(source + ": two unknown pieces (ids " + unk + " and " + id + ")");
                    }
                    unk = id;
                }
                case BYTE -> {
                    if (!model.byteFallback()) {
                        throw new ModelFormatException(source + ": byte piece \"" + p.text()
                                + "\" in a model without byte_fallback");
                    }
                    int b = parseBytePiece(p.text());
                    if (b < 0) {
                        throw new ModelFormatException(source + ": byte piece \"" + p.text()
                                + "\" is not of the form <0xXX>");
                    }
                    byteIds[b] = id;
                }
                case CONTROL -> {
                }
            }
        }
        if (unk < 0) {
            throw new ModelFormatException(source + ": no piece of type UNKNOWN");
        }
        if (model.byteFallback()) {
            for (int b = 0; b < 256; b++) {
                if (byteIds[b] < 0) {
                    throw new ModelFormatException(source + ": byte_fallback is set but there is no piece <0x"
                            + String.format("%02X", b) + ">");
                }
            }
        }
        this.unknownId = unk;
        this.maxPieceChars = longest;
        this.minScore = min;
        this.maxScore = max;
    }

    /** Reads an {@code spm.model} file. */
    public static SentencePieceTokenizer load(Path spmModel) {
        return new SentencePieceTokenizer(SentencePieceModel.read(spmModel), spmModel.toString());
    }

    public SentencePieceModel model() {
        return model;
    }

    /** Number of pieces (ids {@code 0 .. size()-1}). */
    public int size() {
        return model.pieces().size();
    }

    public int unknownId() {
        return unknownId;
    }

    /** The id of a piece, or the unknown id when there is none (as {@code PieceToId}). */
    public int pieceToId(String piece) {
        return idOfPiece.getOrDefault(piece, unknownId);
    }

    public String idToPiece(int id) {
        return model.pieces().get(id).text();
    }

    public String normalize(String text) {
        return normalizer.normalize(text);
    }

    /** The ids of {@code text}, without any control ids. */
    public int[] encodeIds(String text) {
        return encode(text).ids();
    }

    public Encoding encode(String text) {
        String normalized = normalizer.normalize(text);
        List<int[]> segments = viterbi(normalized); // {start, end, id}
        List<String> pieces = new ArrayList<>(segments.size());
        int[] ids = new int[segments.size()];
        int n = 0;
        boolean prevUnknown = false;
        for (int[] s : segments) {
            String surface = normalized.substring(s[0], s[1]);
            boolean unknown = s[2] == unknownId;
            if (unknown && model.byteFallback()) {
                for (byte b : surface.getBytes(StandardCharsets.UTF_8)) {
                    ids = ensure(ids, n + 1);
                    ids[n++] = byteIds[b & 0xff];
                    pieces.add(idToPiece(byteIds[b & 0xff]));
                }
            } else if (unknown && prevUnknown) {
                // a run of unknown characters is one unknown piece, so decoding can copy it
                pieces.set(pieces.size() - 1, pieces.getLast() + surface);
            } else {
                ids = ensure(ids, n + 1);
                ids[n++] = s[2];
                pieces.add(surface);
            }
            prevUnknown = unknown;
        }
        return new Encoding(Arrays.copyOf(ids, n), List.copyOf(pieces));
    }

    private static int[] ensure(int[] a, int size) {
        return size <= a.length ? a : Arrays.copyOf(a, Math.max(size, a.length * 2));
    }

    /**
     * Best segmentation of the normalized text: for each position (a character boundary) the best-scoring path
     * ending there, extended by every piece starting there (shortest first; a later candidate wins only with a
     * strictly higher score), plus the unknown piece over one character when no piece covers exactly that
     * character. Same visiting order as sentencepiece's optimized encoder, so ties resolve the same way.
     */
    private List<int[]> viterbi(String s) {
        int size = s.length();
        if (size == 0) {
            return List.of();
        }
        float[] bestScore = new float[size + 1];
        int[] startOf = new int[size + 1];
        int[] idOf = new int[size + 1];
        Arrays.fill(startOf, -1);
        float unknownScore = minScore - UNKNOWN_PENALTY;
        int start = 0;
        while (start < size) {
            float here = bestScore[start];
            int charLen = Character.charCount(s.codePointAt(start));
            boolean coversOneChar = false;
            int end = start;
            while (end < size) {
                end += Character.charCount(s.codePointAt(end));
                if (end - start > maxPieceChars) {
                    break;
                }
                Integer id = matchable.get(s.substring(start, end));
                if (id == null) {
                    continue;
                }
                Piece p = model.pieces().get(id);
                if (p.type() == PieceType.UNUSED) {
                    continue;
                }
                float candidate;
                if (p.type() == PieceType.USER_DEFINED) {
                    // sentencepiece favours user-defined symbols: byte length times the best score, minus 0.1
                    int bytes = s.substring(start, end).getBytes(StandardCharsets.UTF_8).length;
                    candidate = (float) (bytes * maxScore - 0.1 + here);
                } else {
                    candidate = p.score() + here;
                }
                if (startOf[end] == -1 || candidate > bestScore[end]) {
                    bestScore[end] = candidate;
                    startOf[end] = start;
                    idOf[end] = id;
                }
                if (end - start == charLen) {
                    coversOneChar = true;
                }
            }
            if (!coversOneChar) {
                int next = start + charLen;
                float candidate = unknownScore + here;
                if (startOf[next] == -1 || candidate > bestScore[next]) {
                    bestScore[next] = candidate;
                    startOf[next] = start;
                    idOf[next] = unknownId;
                }
            }
            start += charLen;
        }
        List<int[]> out = new ArrayList<>();
        for (int end = size; end > 0; end = startOf[end]) {
            out.add(new int[] {startOf[end], end, idOf[end]});
        }
        return out.reversed();
    }

    /**
     * Text of ids as {@code SentencePieceProcessor::Decode}: control ids vanish, the unknown id becomes the unknown
     * surface ({@code " ⁇ "}), byte pieces are reassembled into UTF-8, {@code ▁} becomes a space, and the dummy
     * prefix space of the first piece is dropped.
     */
    public String decode(int[] ids) {
        StringBuilder text = new StringBuilder();
        java.io.ByteArrayOutputStream pendingBytes = new java.io.ByteArrayOutputStream();
        boolean atStart = true;
        boolean stripPrefix = model.normalizer().addDummyPrefix() || model.normalizer().removeExtraWhitespaces();
        for (int id : ids) {
            if (id < 0 || id >= size()) {
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + size() + " pieces");
            }
            Piece p = model.pieces().get(id);
            if (p.type() == PieceType.BYTE) {
                pendingBytes.write(parseBytePiece(p.text()));
                continue;
            }
            if (pendingBytes.size() > 0) {
                String bytes = pendingBytes.toString(StandardCharsets.UTF_8);
                pendingBytes.reset();
                atStart = appendSurface(text, bytes, atStart, stripPrefix);
            }
            String surface = switch (p.type()) {
                case CONTROL -> "";
                case UNKNOWN -> model.unknownSurface();
                default -> p.text();
            };
            atStart = appendSurface(text, surface, atStart, stripPrefix && p.type() != PieceType.UNKNOWN);
        }
        if (pendingBytes.size() > 0) {
            appendSurface(text, pendingBytes.toString(StandardCharsets.UTF_8), atStart, stripPrefix);
        }
        return text.toString();
    }

    private static boolean appendSurface(StringBuilder text, String surface, boolean atStart, boolean stripPrefix) {
        String s = surface;
        if (atStart && stripPrefix && s.startsWith(SentencePieceNormalizer.SPACE_SYMBOL)) {
            s = s.substring(SentencePieceNormalizer.SPACE_SYMBOL.length());
        }
        text.append(s.replace(SentencePieceNormalizer.SPACE_SYMBOL, " "));
        return atStart && s.isEmpty();
    }

    /** The byte of a {@code <0xXX>} piece, or -1. */
    static int parseBytePiece(String text) {
        if (text.length() != 6 || !text.startsWith("<0x") || text.charAt(5) != '>') {
            return -1;
        }
        try {
            return Integer.parseInt(text.substring(3, 5), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
