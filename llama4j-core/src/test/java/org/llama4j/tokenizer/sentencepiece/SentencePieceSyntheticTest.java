package org.llama4j.tokenizer.sentencepiece;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.llama4j.format.ModelFormatException;

/** Generated spm.model bytes (a protobuf writer and a hand-built darts trie below): no fixtures needed. */
class SentencePieceSyntheticTest {

    /** Minimal protobuf writer for the test models. */
    static final class Proto {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(long v) {
            while ((v & ~0x7fL) != 0) {
                out.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
            return this;
        }

        Proto tag(int field, int wire) {
            return varint((long) field << 3 | wire);
        }

        Proto bytes(int field, byte[] b) {
            tag(field, 2).varint(b.length);
            out.writeBytes(b);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto floatField(int field, float f) {
            tag(field, 5);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(f).array());
            return this;
        }

        Proto intField(int field, long v) {
            return tag(field, 0).varint(v);
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }

    static byte[] piece(String text, float score, int type) {
        Proto p = new Proto().string(1, text).floatField(2, score);
        if (type != 1) {
            p.intField(3, type);
        }
        return p.toBytes();
    }

    /** A darts-clone trie with two rules: "A" → "a" and "AB" → "x" (see PrecompiledCharsmap for the unit layout). */
    static byte[] charsmap() {
        int[] units = new int[66];
        units[0] = 0;                                 // root: children at 0 ^ label
        units[0x41] = 0x41 | 1 << 8 | 1 << 10;        // 'A', has a leaf, children at 0x41 ^ 1 = 64
        units[64] = 0x80000000;                       // leaf of "A": pool offset 0
        units[64 ^ 0x42] = 0x42 | 1 << 8 | 1 << 10;   // 'B' after 'A' (at 2), children at 2 ^ 1 = 3
        units[3] = 0x80000000 | 2;                    // leaf of "AB": pool offset 2
        ByteBuffer b = ByteBuffer.allocate(4 + units.length * 4 + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(units.length * 4);
        for (int u : units) {
            b.putInt(u);
        }
        b.put(new byte[] {'a', 0, 'x', 0});
        return b.array();
    }

    static byte[] model(boolean byteFallback, byte[] charsmap, List<byte[]> pieces) {
        Proto m = new Proto();
        for (byte[] p : pieces) {
            m.bytes(1, p);
        }
        Proto trainer = new Proto().intField(3, 1);
        if (byteFallback) {
            trainer.intField(35, 1);
        }
        m.bytes(2, trainer.toBytes());
        Proto norm = new Proto().string(1, "test");
        if (charsmap != null) {
            norm.bytes(2, charsmap);
        }
        m.bytes(3, norm.toBytes());
        return m.toBytes();
    }

    static List<byte[]> basePieces() {
        return new java.util.ArrayList<>(List.of(
                piece("[PAD]", 0, 3), piece("[CLS]", 0, 3), piece("[SEP]", 0, 3), piece("[UNK]", 0, 2),
                piece("▁", -2, 1), piece("▁a", -3, 1), piece("b", -3, 1), piece("▁ab", -5, 1),
                piece("a", -4, 1), piece("x", -4, 1), piece("▁x", -6.5f, 1), piece("c", -1, 5),
                piece("<sep>", 0, 4)));
    }

    static SentencePieceTokenizer tokenizer(boolean byteFallback, byte[] charsmap, List<byte[]> pieces) {
        return new SentencePieceTokenizer(SentencePieceModel.parse(model(byteFallback, charsmap, pieces), "test.model"),
                "test.model");
    }

    @Test
    void viterbiPicksTheBestTotalScore() {
        SentencePieceTokenizer t = tokenizer(false, null, basePieces());
        // "▁ab" (-5) beats "▁a" + "b" (-6)
        assertThat(t.encode("ab").pieces()).containsExactly("▁ab");
        assertThat(t.encode("ab").ids()).containsExactly(7);
        // "▁x" (-6.5) loses to "▁" + "x" (-6)
        assertThat(t.encode("x").pieces()).containsExactly("▁", "x");
    }

    @Test
    void whitespaceIsTrimmedCollapsedAndEscaped() {
        SentencePieceTokenizer t = tokenizer(false, null, basePieces());
        assertEquals("▁ab▁a", t.normalize("   ab    a  "));
        assertEquals("", t.normalize("    "));
        assertThat(t.encode("").ids()).isEmpty();
    }

    @Test
    void unknownRunsMergeUnusedAndControlPiecesAreNeverProduced() {
        SentencePieceTokenizer t = tokenizer(false, null, basePieces());
        SentencePieceTokenizer.Encoding e = t.encode("a[CLS]é");
        assertThat(e.pieces()).containsExactly("▁a", "[CLS]é");
        assertThat(e.ids()).containsExactly(5, 3);
        // "c" is UNUSED: never matched even though it is a piece
        assertThat(t.encode("ac").ids()).containsExactly(5, 3);
        assertEquals("a ⁇ ", t.decode(e.ids()));
        assertEquals(1, t.pieceToId("[CLS]"));
        assertEquals(3, t.pieceToId("nope"));
    }

    @Test
    void userDefinedSymbolsWinAndSkipNormalization() {
        SentencePieceTokenizer t = tokenizer(false, charsmap(), basePieces());
        assertThat(t.encode("a<sep>b").pieces()).containsExactly("▁a", "<sep>", "b");
    }

    @Test
    void charsmapAppliesTheLongestRule() {
        SentencePieceTokenizer t = tokenizer(false, charsmap(), basePieces());
        assertEquals("▁xa", t.normalize("ABA"));
        assertEquals("▁aéB", t.normalize("AéB"), "B alone has no rule");
        PrecompiledCharsmap map = PrecompiledCharsmap.parse(charsmap(), "test");
        byte[] key = "ABz".getBytes(StandardCharsets.UTF_8);
        assertEquals(2L << 32 | 2, map.longestMatch(key, 0, 3));
        assertEquals(1L << 32, map.longestMatch(key, 0, 1));
        assertEquals(-1, map.longestMatch(key, 2, 3));
    }

    @Test
    void byteFallbackSpellsUnknownCharactersAsBytes() {
        List<byte[]> pieces = basePieces();
        for (int b = 0; b < 256; b++) {
            pieces.add(piece(String.format("<0x%02X>", b), 0, 6));
        }
        SentencePieceTokenizer t = tokenizer(true, null, pieces);
        SentencePieceTokenizer.Encoding e = t.encode("aé");
        assertThat(e.pieces()).containsExactly("▁a", "<0xC3>", "<0xA9>");
        assertEquals("aé", t.decode(e.ids()));
    }

    @Test
    void malformedModelsAreSpecificErrors() {
        byte[] good = model(false, null, basePieces());
        assertThatThrownBy(() -> SentencePieceModel.parse(java.util.Arrays.copyOf(good, good.length - 3), "m"))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("m: malformed protobuf at byte");
        assertThatThrownBy(() -> SentencePieceModel.parse(new byte[0], "m")).hasMessageContaining("no pieces");
        List<byte[]> noUnk = basePieces();
        noUnk.remove(3);
        assertThatThrownBy(() -> tokenizer(false, null, noUnk)).hasMessageContaining("no piece of type UNKNOWN");
        List<byte[]> dup = basePieces();
        dup.add(piece("b", -1, 1));
        assertThatThrownBy(() -> tokenizer(false, null, dup)).hasMessageContaining("piece \"b\" appears twice");
        assertThatThrownBy(() -> tokenizer(true, null, basePieces())).hasMessageContaining("no piece <0x00>");
        byte[] badMap = charsmap();
        badMap[0] = (byte) 0xff;
        assertThatThrownBy(() -> tokenizer(false, badMap, basePieces())).hasMessageContaining("declares a trie of");
        byte[] bpe = new Proto().bytes(1, piece("a", 0, 2)).bytes(2, new Proto().intField(3, 2).toBytes()).toBytes();
        assertThatThrownBy(() -> new SentencePieceTokenizer(SentencePieceModel.parse(bpe, "bpe"), "bpe"))
                .hasMessageContaining("model type BPE is not supported");
    }
}
