package org.llama4j.tokenizer.sentencepiece;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llama4j.format.ModelFormatException;

/**
 * The parts of a SentencePiece {@code ModelProto} ({@code spm.model}) that encoding and decoding need: the pieces
 * with their scores and types, the normalizer spec (including the precompiled charsmap) and the trainer settings
 * that change encoding (model type, byte fallback, whitespace as suffix, unknown surface).
 */
public record SentencePieceModel(
        List<Piece> pieces,
        ModelType modelType,
        boolean byteFallback,
        boolean treatWhitespaceAsSuffix,
        String unknownSurface,
        NormalizerSpec normalizer) {

    /** {@code ModelProto.SentencePiece.Type}. */
    public enum PieceType {
        NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

        static PieceType of(int protoValue, ProtoReader at) {
            return switch (protoValue) {
                case 1 -> NORMAL;
                case 2 -> UNKNOWN;
                case 3 -> CONTROL;
                case 4 -> USER_DEFINED;
                case 5 -> UNUSED;
                case 6 -> BYTE;
                default -> throw at.error(at.position(), "unknown piece type " + protoValue);
            };
        }
    }

    /** {@code TrainerSpec.ModelType}. */
    public enum ModelType { UNIGRAM, BPE, WORD, CHAR }

    public record Piece(String text, float score, PieceType type) {
    }

    /**
     * {@code NormalizerSpec}. An empty {@code precompiledCharsmap} means no character mapping (the {@code identity}
     * normalizer); whitespace handling still applies.
     */
    public record NormalizerSpec(String name, byte[] precompiledCharsmap, boolean addDummyPrefix,
            boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
    }

    /** Sentencepiece's default unknown surface: U+2047 (⁇) between spaces. */
    public static final String DEFAULT_UNKNOWN_SURFACE = " \u2047 ";

    public static SentencePieceModel read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(bytes, file.toString());
    }

    /** Parses a serialized {@code ModelProto}; {@code source} names it in error messages. */
    public static SentencePieceModel parse(byte[] bytes, String source) {
        ProtoReader in = new ProtoReader(bytes, source);
        List<Piece> pieces = new ArrayList<>();
        ModelType modelType = ModelType.UNIGRAM;
        boolean byteFallback = false;
        boolean suffix = false;
        String unknownSurface = DEFAULT_UNKNOWN_SURFACE;
        NormalizerSpec normalizer = null;
        while (in.hasMore()) {
            int tag = in.readTag();
            switch (tag >>> 3) {
                case 1 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.pieces");
                    pieces.add(readPiece(in.readMessage(), pieces.size()));
                }
                case 2 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.trainer_spec");
                    ProtoReader t = in.readMessage();
                    while (t.hasMore()) {
                        int ttag = t.readTag();
                        switch (ttag >>> 3) {
                            case 3 -> {
                                t.expectWireType(ttag, ProtoReader.VARINT, "TrainerSpec.model_type");
                                int v = t.readInt32();
                                if (v < 1 || v > 4) {
                                    throw t.error(t.position(), "unknown TrainerSpec.model_type " + v);
                                }
                                modelType = ModelType.values()[v - 1];
                            }
                            case 24 -> {
                                t.expectWireType(ttag, ProtoReader.VARINT, "TrainerSpec.treat_whitespace_as_suffix");
                                suffix = t.readBool();
                            }
                            case 35 -> {
                                t.expectWireType(ttag, ProtoReader.VARINT, "TrainerSpec.byte_fallback");
                                byteFallback = t.readBool();
                            }
                            case 44 -> {
                                t.expectWireType(ttag, ProtoReader.LENGTH_DELIMITED, "TrainerSpec.unk_surface");
                                unknownSurface = t.readString();
                            }
                            default -> t.skip(ttag);
                        }
                    }
                }
                case 3 -> {
                    in.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "ModelProto.normalizer_spec");
                    normalizer = readNormalizer(in.readMessage());
                }
                default -> in.skip(tag); // self_test_data, denormalizer_spec: not needed to encode
            }
        }
        if (pieces.isEmpty()) {
            throw new ModelFormatException(source + ": no pieces (not a SentencePiece model?)");
        }
        if (normalizer == null) {
            normalizer = new NormalizerSpec("identity", new byte[0], true, true, true);
        }
        return new SentencePieceModel(List.copyOf(pieces), modelType, byteFallback, suffix, unknownSurface, normalizer);
    }

    private static Piece readPiece(ProtoReader p, int index) {
        String text = null;
        float score = 0f;
        PieceType type = PieceType.NORMAL;
        while (p.hasMore()) {
            int tag = p.readTag();
            switch (tag >>> 3) {
                case 1 -> {
                    p.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "SentencePiece.piece");
                    text = p.readString();
                }
                case 2 -> {
                    p.expectWireType(tag, ProtoReader.FIXED32, "SentencePiece.score");
                    score = p.readFloat();
                }
                case 3 -> {
                    p.expectWireType(tag, ProtoReader.VARINT, "SentencePiece.type");
                    type = PieceType.of(p.readInt32(), p);
                }
                default -> p.skip(tag);
            }
        }
        if (text == null || text.isEmpty()) {
            throw p.error(p.position(), "piece " + index + " has no text");
        }
        return new Piece(text, score, type);
    }

    private static NormalizerSpec readNormalizer(ProtoReader n) {
        String name = "";
        byte[] charsmap = new byte[0];
        boolean dummyPrefix = true;
        boolean removeExtra = true;
        boolean escape = true;
        while (n.hasMore()) {
            int tag = n.readTag();
            switch (tag >>> 3) {
                case 1 -> {
                    n.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "NormalizerSpec.name");
                    name = n.readString();
                }
                case 2 -> {
                    n.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "NormalizerSpec.precompiled_charsmap");
                    charsmap = n.readBytes();
                }
                case 3 -> {
                    n.expectWireType(tag, ProtoReader.VARINT, "NormalizerSpec.add_dummy_prefix");
                    dummyPrefix = n.readBool();
                }
                case 4 -> {
                    n.expectWireType(tag, ProtoReader.VARINT, "NormalizerSpec.remove_extra_whitespaces");
                    removeExtra = n.readBool();
                }
                case 5 -> {
                    n.expectWireType(tag, ProtoReader.VARINT, "NormalizerSpec.escape_whitespaces");
                    escape = n.readBool();
                }
                default -> n.skip(tag); // normalization_rule_tsv is only an input of the trainer
            }
        }
        return new NormalizerSpec(name, charsmap, dummyPrefix, removeExtra, escape);
    }
}
