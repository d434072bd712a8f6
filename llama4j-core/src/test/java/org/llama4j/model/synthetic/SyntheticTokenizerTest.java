package org.llama4j.model.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.llama4j.testing.Fixtures;

class SyntheticTokenizerTest {

    @Test
    void vocabularyIsSelfConsistent() {
        for (int size : new int[] {SyntheticTokenizer.MIN_VOCAB_SIZE, 2048, 32768}) {
            SyntheticTokenizer t = SyntheticTokenizer.build(size);
            assertThat(t.vocabSize()).isEqualTo(size);
            assertThat(t.tokenTypes()).hasSize(size);
            Set<String> tokens = new HashSet<>(List.of(t.tokens()));
            assertThat(tokens).as("unique tokens").hasSize(size);
            // every merge's parts and result are BPE tokens, and the merged token's id follows its rank
            assertThat(t.merges()).hasSize(t.bpeTokenCount() - 256);
            List<String> problems = new ArrayList<>();
            for (int i = 0; i < t.merges().length; i++) {
                String[] parts = t.merges()[i].split(" ");
                if (parts.length != 2 || !tokens.contains(parts[0]) || !tokens.contains(parts[1])
                        || !t.tokens()[256 + i].equals(parts[0] + parts[1])) {
                    problems.add("merge " + i + " '" + t.merges()[i] + "' vs token " + t.tokens()[256 + i]);
                }
            }
            for (int i = 0; i < size; i++) {
                if (t.tokenTypes()[i] != (i < t.bpeTokenCount() ? 1 : 3)) {
                    problems.add("token " + i + " has type " + t.tokenTypes()[i]);
                }
            }
            assertThat(problems).as("vocabulary of %d", size).isEmpty();
            assertThat(t.tokens()[t.bosId()]).isEqualTo("<|begin_of_text|>");
            assertThat(t.tokens()[t.eosId()]).isEqualTo("<|end_of_text|>");
            assertThat(t.tokens()[t.eotId()]).isEqualTo("<|eot|>");
            assertThat(t.tokens()[t.eomId()]).isEqualTo("<|eom|>");
            assertThat(t.tokens()[t.padId()]).isEqualTo("<|finetune_right_pad|>");
            assertThat(t.tokens()[t.bpeTokenCount() + Llama4SpecialTokens.PATCH]).isEqualTo("<|patch|>");
        }
    }

    @Test
    void byteTokensUseGpt2Unicode() {
        SyntheticTokenizer t = SyntheticTokenizer.build(1024);
        assertThat(t.tokens()[' ']).isEqualTo("Ġ");
        assertThat(t.tokens()['\n']).isEqualTo("Ċ");
        assertThat(t.tokens()['a']).isEqualTo("a");
        assertThat(t.tokens()[0]).isEqualTo("Ā");
        assertThat(t.tokens()[0xff]).isEqualTo("ÿ");
    }

    @Test
    void learnedMergesEncodeEnglishCompactly() {
        SyntheticTokenizer t = SyntheticTokenizer.build(2048);
        // frequent words of the training text are single tokens
        assertThat(t.encodeWord(" the")).containsExactly(t.idOf(" the"));
        assertThat(t.idOf(" the")).isBetween(256, 400);
        assertThat(t.encodeWord(" assistant")).hasSizeLessThanOrEqualTo(2);
        String text = "The user asks a question and the assistant gives an answer.";
        assertThat(encodeWords(t, text).length).isLessThan(text.length() / 2);
        // unknown byte sequences still encode, byte by byte at worst
        assertThat(t.encodeWord("\u00e9\u4e2d")).hasSize(5);
    }

    @Test
    void fullVocabularyPutsTheSpecialsAtLlama4Ids() throws IOException {
        SyntheticTokenizer t = SyntheticTokenizer.build(SyntheticModelConfig.FULL_VOCAB_SIZE);
        assertThat(t.bpeTokenCount()).isEqualTo(200000);
        assertThat(t.bosId()).isEqualTo(200000);
        assertThat(t.eotId()).isEqualTo(200008);
        assertThat(t.padId()).isEqualTo(200018);
        assertThat(t.tokens()[200092]).isEqualTo("<|patch|>");
        assertThat(t.tokens()[202047]).isEqualTo("<|reserved_special_token_903|>");
        // Meta's list, as recorded by the tokenizer fixtures
        JsonNode specials = new ObjectMapper().readTree(
                Fixtures.require("tokenizer/llama4/special_tokens.json").toFile()).get("special_tokens");
        List<String> expected = new ArrayList<>();
        specials.forEach(s -> expected.add(s.get("content").asText()));
        assertThat(Llama4SpecialTokens.names()).containsExactlyElementsOf(expected);
    }

    @Test
    void sameSizeGivesTheSameVocabulary() {
        SyntheticTokenizer a = SyntheticTokenizer.build(4096);
        SyntheticTokenizer b = SyntheticTokenizer.build(4096);
        assertThat(a.tokens()).containsExactly(b.tokens());
        assertThat(a.merges()).containsExactly(b.merges());
        // a larger vocabulary extends a smaller one: its BPE tokens are a prefix
        SyntheticTokenizer c = SyntheticTokenizer.build(8192);
        for (int i = 0; i < a.bpeTokenCount(); i++) {
            assertThat(c.tokens()[i]).isEqualTo(a.tokens()[i]);
        }
    }

    @Test
    void tooSmallVocabulariesAreRejected() {
        assertThatThrownBy(() -> SyntheticTokenizer.build(300)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("vocab_size 300").hasMessageContaining("at least 372");
    }

    @Test
    void chatTemplateIsTheOfficialOne() throws IOException {
        String ours = SyntheticModelWriter.chatTemplate();
        assertThat(ours).startsWith("{{- bos_token }}").contains("<|python_start|>").endsWith("{%- endif %}\n");
        // the tokenizer fixtures carry the same template as shipped by transformers
        String fixture = Files.readString(Fixtures.require("tokenizer/llama4/chat_template.jinja"));
        assertThat(ours).isEqualTo(fixture);
    }

    /** Splits at spaces (keeping each space with the following word) and encodes word by word. */
    private static int[] encodeWords(SyntheticTokenizer t, String text) {
        List<Integer> ids = new ArrayList<>();
        for (String word : text.split("(?= )|(?=\\.)")) {
            for (int id : t.encodeWord(word)) {
                ids.add(id);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
