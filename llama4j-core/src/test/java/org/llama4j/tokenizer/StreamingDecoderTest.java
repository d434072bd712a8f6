package org.llama4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {
    private final Tokenizer tokenizer = TestVocabularies.tinyLlama4();

    /** Feeds the ids and checks each delta: never a U+FFFD, and the text so far is exactly the complete characters. */
    private static String stream(Tokenizer tokenizer, int[] ids) {
        StreamingDecoder decoder = tokenizer.streamingDecoder();
        StringBuilder text = new StringBuilder();
        for (int id : ids) {
            String delta = decoder.accept(id);
            assertThat(delta).doesNotContain("\uFFFD");
            text.append(delta);
        }
        text.append(decoder.flush());
        assertThat(decoder.hasPending()).isFalse();
        return text.toString();
    }

    /** Every way of cutting the UTF-8 bytes of 2-, 3- and 4-byte characters into single-byte and multi-byte tokens. */
    @Test
    void everySplitPointOfMultiByteCharacters() {
        for (String ch : new String[] {"é", "ß", "€", "中", "😀", "\uD800\uDC00", "\uDBFF\uDFFF"}) {
            String text = "a" + ch + ch + "b";
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            // One token per byte: every split point at once.
            int[] perByte = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                perByte[i] = bytes[i] & 0xFF;
            }
            assertThat(stream(tokenizer, perByte)).isEqualTo(text);
            // Deltas appear exactly when a character completes.
            StreamingDecoder decoder = tokenizer.streamingDecoder();
            int charLength = ch.getBytes(StandardCharsets.UTF_8).length;
            for (int i = 0; i < perByte.length; i++) {
                String delta = decoder.accept(perByte[i]);
                boolean completes = i == 0 || i == perByte.length - 1 || (i - 1) % charLength == charLength - 1;
                assertThat(delta.isEmpty()).as("%s byte %d", ch, i).isEqualTo(!completes);
            }
        }
    }

    /** Tokens that end mid-character and start mid-character, from the real vocabulary (CJK, emoji). */
    @Test
    void tokensSpanningCharacterBoundaries() {
        Tokenizer t = TestVocabularies.tinyLlama4();
        String text = "€é€😀é";
        int[] ids = t.encode(text, SpecialTokens.NONE);
        assertThat(stream(t, ids)).isEqualTo(text);
    }

    @Test
    void invalidBytesBecomeReplacementOnlyWhenProvablyInvalid() {
        StreamingDecoder d = tokenizer.streamingDecoder();
        assertThat(d.accept(0xE2)).isEmpty();          // could start €
        assertThat(d.accept('A')).isEqualTo("\uFFFDA");  // it cannot any more
        assertThat(d.accept(0xFF)).isEqualTo("\uFFFD");  // never valid
        assertThat(d.accept(0xC0)).isEqualTo("\uFFFD");  // overlong lead
        assertThat(d.accept(0xED)).isEmpty();
        assertThat(d.accept(0xA0)).isEqualTo("\uFFFD\uFFFD"); // ED A0 = surrogate: invalid, and A0 alone too
        assertThat(d.accept(0xF0)).isEmpty();
        assertThat(d.accept(0x9F)).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");        // truncated at the end: one maximal subpart
        assertThat(d.accept(0x80)).isEqualTo("\uFFFD");  // lone continuation byte
    }

    /** Whatever the bytes, streaming then flushing gives what decoding all ids at once gives. */
    @Test
    void streamingMatchesWholeDecodeOnRandomBytes() {
        Random random = new Random(3);
        int[] interesting = {0x41, 0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0x9F, 0xA0, 0x90, 0x8F};
        for (int trial = 0; trial < 5_000; trial++) {
            int[] ids = new int[1 + random.nextInt(10)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextBoolean() ? interesting[random.nextInt(interesting.length)]
                        : random.nextInt(tokenizer.vocabularySize());
            }
            StreamingDecoder d = tokenizer.streamingDecoder();
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append(d.accept(id));
            }
            sb.append(d.flush());
            assertThat(sb.toString()).isEqualTo(tokenizer.decode(ids));
        }
    }

    /**
     * Replacement follows Python's {@code bytes.decode("utf-8", "replace")} (what tiktoken's decode uses): one U+FFFD per
     * maximal ill-formed subpart. Expected strings computed with CPython 3; the JDK's decoder differs on some
     * (it turns {@code ED B2} into one U+FFFD, Python into two).
     */
    @Test
    void wholeDecodeReplacesLikePython() {
        String[][] vectors = {
            {"9ec8c6f5edb2", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"},
            {"e282", "\uFFFD"},
            {"e28241", "\uFFFDA"},
            {"f09f98", "\uFFFD"},
            {"f09f9841", "\uFFFDA"},
            {"eda080", "\uFFFD\uFFFD\uFFFD"},
            {"c0af", "\uFFFD\uFFFD"},
            {"e080af", "\uFFFD\uFFFD\uFFFD"},
            {"f4908080", "\uFFFD\uFFFD\uFFFD\uFFFD"},
            {"f0808080", "\uFFFD\uFFFD\uFFFD\uFFFD"},
            {"ff41fe", "\uFFFDA\uFFFD"},
            {"e2ffac", "\uFFFD\uFFFD\uFFFD"},
            {"cd", "\uFFFD"},
            {"41c3a9e282ac", "A\u00E9\u20AC"},
            {"efbfbd", "\uFFFD"},
            {"bf9f8f8f80e0", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"},
            {"80f08ff0f0a0", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"},
            {"ed8fc280f041", "\uFFFD\u0080\uFFFDA"},
            {"eded9f8f8f41", "\uFFFD\uD7CF\uFFFDA"},
            {"9f80e2414141", "\uFFFD\uFFFD\uFFFDAAA"},
            {"a0f441eda0c2", "\uFFFD\uFFFDA\uFFFD\uFFFD\uFFFD"},
            {"ed9041f4c28f", "\uFFFDA\uFFFD\u008F"},
        };
        for (String[] v : vectors) {
            byte[] bytes = java.util.HexFormat.of().parseHex(v[0]);
            int[] ids = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                ids[i] = bytes[i] & 0xFF;
            }
            assertThat(tokenizer.decode(ids)).as(v[0]).isEqualTo(v[1]);
        }
    }
}
