package org.llama4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.llama4j.testing.Fixtures;

class TokenizerTest {
    private final Tokenizer tiny = TestVocabularies.tinyLlama4();

    @Test
    void specialTokenTextIsPlainTextUnlessAllowed() {
        int eot = tiny.specialTokenId("<|eot|>").orElseThrow();
        assertThat(eot).isEqualTo(tiny.rankCount() + 8);
        assertThat(tiny.encode("ab<|eot|>ab", SpecialTokens.ALL)).containsExactly(256, eot, 256);
        int[] plain = tiny.encode("ab<|eot|>ab", SpecialTokens.NONE);
        assertThat(plain).doesNotContain(eot);
        assertThat(tiny.decode(plain)).isEqualTo("ab<|eot|>ab");
        // Leftmost match wins; near-misses stay text.
        assertThat(tiny.encode("<|<|eot|>|>", SpecialTokens.ALL)).contains(eot).hasSize(5);
        assertThat(java.util.Arrays.stream(tiny.encode("<|EOT|><|eot_id|>", SpecialTokens.ALL))).allMatch(id -> !tiny.isSpecial(id));
        assertThat(tiny.decode(new int[] {eot})).isEqualTo("<|eot|>");
    }

    @Test
    void idsAndMetadata() {
        assertThat(tiny.vocabularySize()).isEqualTo(tiny.rankCount() + 2048);
        assertThat(tiny.bosId()).isEqualTo(tiny.rankCount());
        assertThat(tiny.eosId()).isEqualTo(tiny.rankCount() + 1);
        assertThat(tiny.eotId()).isEqualTo(tiny.rankCount() + 8);
        assertThat(tiny.stopTokenIds()).containsExactly(tiny.rankCount() + 1, tiny.rankCount() + 7, tiny.rankCount() + 8);
        assertThat(tiny.isSpecial(tiny.bosId())).isTrue();
        assertThat(tiny.isSpecial(256)).isFalse();
        assertThat(tiny.tokenText(256)).isEqualTo("ab");
        assertThat(tiny.tokenText(0xE2)).isEqualTo("\uFFFD");
        assertThat(tiny.tokenBytes(0xE2)).containsExactly(0xE2);
        assertThatThrownBy(() -> tiny.decode(new int[] {tiny.vocabularySize()}))
                .hasMessageContaining("outside the vocabulary");
        assertThatThrownBy(() -> tiny.decode(new int[] {-1})).hasMessageContaining("-1");
    }

    @Test
    void loneSurrogatesEncodeAsReplacementCharacter() {
        int[] replacement = tiny.encode("x\uFFFDy", SpecialTokens.NONE);
        assertThat(tiny.encode("x\uD800y", SpecialTokens.NONE)).isEqualTo(replacement);
        assertThat(tiny.encode("x\uDC00y", SpecialTokens.NONE)).isEqualTo(replacement);
        assertThat(tiny.encode("x\uDBFF", SpecialTokens.NONE)).isEqualTo(tiny.encode("x\uFFFD", SpecialTokens.NONE));
        // A valid pair is one code point, not two replacements.
        assertThat(tiny.decode(tiny.encode("\uD83D\uDE00", SpecialTokens.NONE))).isEqualTo("\uD83D\uDE00");
    }

    @Test
    void invalidUtf8InputDecodedLeniently() {
        byte[] invalid = {'a', (byte) 0xFF, (byte) 0xE2, (byte) 0x82, 'b', (byte) 0xC0};
        String text = new String(invalid, StandardCharsets.UTF_8);
        assertThat(tiny.decode(tiny.encode(text, SpecialTokens.NONE))).isEqualTo(text);
    }

    @Test
    void roundTripsArbitraryText() {
        java.util.Random random = new java.util.Random(11);
        for (int trial = 0; trial < 2_000; trial++) {
            StringBuilder sb = new StringBuilder();
            for (int i = random.nextInt(30); i > 0; i--) {
                int cp;
                do {
                    cp = random.nextInt(4) == 0 ? random.nextInt(0x110000) : random.nextInt(0x250);
                } while (Character.isSurrogate((char) cp) && cp < 0x10000);
                sb.appendCodePoint(cp);
            }
            String text = sb.toString();
            assertThat(tiny.decode(tiny.encode(text, SpecialTokens.ALL))).isEqualTo(text);
        }
    }

    @Test
    void metaChunkingCutsRunsLongerThan25000() {
        // 25,001 'a': Meta cuts after 25,000, so the pieces are encoded separately.
        int[] whole = tiny.encode("a".repeat(25_000), SpecialTokens.NONE);
        int[] cut = tiny.encode("a".repeat(25_001), SpecialTokens.NONE);
        assertThat(cut).hasSize(whole.length + 1).endsWith('a');
        // A run of exactly 25,000 is not cut, and mixed text resets the run length.
        assertThat(tiny.encode("aaaa ".repeat(20_000), SpecialTokens.NONE)).hasSize(2 * 20_000 - 1 + 1);
    }

    @Test
    @Timeout(120)
    void hugeInputsAreLinear() {
        String word = "abc".repeat(350_000);
        assertThat(tiny.decode(tiny.encode(word, SpecialTokens.NONE))).isEqualTo(word);
        String spaces = " ".repeat(1 << 20) + "x";
        assertThat(tiny.decode(tiny.encode(spaces, SpecialTokens.NONE))).isEqualTo(spaces);
        String doc = "The theory of <|eot|> everything, 1234 € é\n\n  ".repeat(220_000); // ~10 MB
        assertThat(tiny.decode(tiny.encode(doc, SpecialTokens.ALL))).isEqualTo(doc);
    }

    /** Meta's special-token list as {@link TokenizerFamily} builds it equals the fixture's, id for id. */
    @Test
    void specialTokenListsMatchMeta() throws Exception {
        Path dir = Fixtures.require("tokenizer");
        ObjectMapper json = new ObjectMapper();
        for (TokenizerFamily family : TokenizerFamily.values()) {
            JsonNode spec = json.readTree(dir.resolve(family == TokenizerFamily.LLAMA4 ? "llama4" : "llama3")
                    .resolve("special_tokens.json").toFile());
            List<String> expected = new java.util.ArrayList<>();
            for (JsonNode t : spec.get("special_tokens")) {
                assertThat(t.get("id").asInt()).isEqualTo(family.rankCount() + expected.size());
                expected.add(t.get("content").asText());
            }
            assertThat(family.metaSpecialTokens()).isEqualTo(expected);
            assertThat(family.preTokenizer().pattern()).isEqualTo(spec.get("pattern").asText());
            assertThat(expected.indexOf(family.eotToken()) + family.rankCount()).isEqualTo(spec.get("eot_id").asInt());
            assertThat(expected.indexOf(family.eomToken()) + family.rankCount()).isEqualTo(spec.get("eom_id").asInt());
            assertThat(expected.indexOf(family.padToken()) + family.rankCount()).isEqualTo(spec.get("pad_id").asInt());
        }
    }

    @Test
    @Timeout(120)
    void hugeInputsWithTheRealVocabulary() throws Exception {
        Tokenizer t = TokenizerLoader.load(Fixtures.require("tokenizer/llama4/tokenizer.model"));
        String word = "ab".repeat(1 << 19);
        assertThat(t.decode(t.encode(word, SpecialTokens.NONE))).isEqualTo(word);
        String spaces = " ".repeat(1 << 20) + "end";
        assertThat(t.decode(t.encode(spaces, SpecialTokens.NONE))).isEqualTo(spaces);
        String sample = Files.readString(Fixtures.require("tokenizer/chat_template.jinja".replace("chat_template.jinja",
                "llama4/chat_template.jinja")));
        StringBuilder doc = new StringBuilder();
        while (doc.length() < 10_000_000) {
            doc.append(sample).append("Grüße, 世界! 😀 ");
        }
        String text = doc.toString();
        assertThat(t.decode(t.encode(text, SpecialTokens.ALL))).isEqualTo(text);
    }
}
