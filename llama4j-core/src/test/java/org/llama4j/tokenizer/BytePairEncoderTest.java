package org.llama4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class BytePairEncoderTest {

    /** tiktoken's merge rule written as plainly as possible: the reference for both fast paths. */
    static int[] referenceMerge(BytePairEncoder bpe, byte[] piece) {
        List<byte[]> parts = new ArrayList<>();
        for (byte b : piece) {
            parts.add(new byte[] {b});
        }
        while (true) {
            int best = Integer.MAX_VALUE;
            int at = -1;
            for (int i = 0; i + 1 < parts.size(); i++) {
                byte[] joined = concat(parts.get(i), parts.get(i + 1));
                int r = bpe.rank(joined, 0, joined.length);
                if (r < best) {
                    best = r;
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            parts.set(at, concat(parts.get(at), parts.remove(at + 1)));
        }
        return parts.stream().mapToInt(p -> bpe.rank(p, 0, p.length)).toArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static int[] encode(BytePairEncoder bpe, byte[] piece) {
        IntBuffer out = new IntBuffer(4);
        bpe.encode(piece, piece.length, out);
        return out.toArray();
    }

    /** Random pieces over a 3-letter alphabet with many overlapping tokens, short (array path) and long (heap path). */
    @Test
    void bothMergePathsAgreeWithTheReference() {
        BytePairEncoder bpe = new BytePairEncoder(TestVocabularies.ranks("ab", "ba", "aa", "bb", "aab", "abab", "bab",
                "abc", "ca", "cab", "aaa", "bca", "abca", "cc", "ccc", "bcab"));
        Random random = new Random(42);
        for (int trial = 0; trial < 600; trial++) {
            int length = trial < 500 ? 2 + random.nextInt(40) : 128 + random.nextInt(200);
            byte[] piece = new byte[length];
            for (int i = 0; i < length; i++) {
                piece[i] = (byte) ("abc".charAt(random.nextInt(3)));
            }
            assertThat(encode(bpe, piece)).as("piece %s", new String(piece)).isEqualTo(referenceMerge(bpe, piece));
        }
    }

    @Test
    void wholePieceInTheVocabularyIsOneToken() {
        BytePairEncoder bpe = new BytePairEncoder(TestVocabularies.ranks("ab", "abc"));
        assertThat(encode(bpe, "abc".getBytes())).containsExactly(257);
        assertThat(encode(bpe, "abcab".getBytes())).containsExactly(257, 256);
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        BytePairEncoder bpe = new BytePairEncoder(TestVocabularies.ranks("aa"));
        // "aaa": the pairs at 0 and 1 both make "aa"; tiktoken merges the leftmost.
        assertThat(encode(bpe, "aaa".getBytes())).containsExactly(256, 'a');
    }

    @Test
    void rejectsVocabulariesThatCannotEncodeEveryByte() {
        byte[][] ranks = TestVocabularies.ranks();
        ranks[7] = new byte[] {1, 2};
        assertThatThrownBy(() -> new BytePairEncoder(ranks)).hasMessageContaining("single byte 0x07");
        byte[][] duplicate = TestVocabularies.ranks("ab", "ab");
        assertThatThrownBy(() -> new BytePairEncoder(duplicate)).hasMessageContaining("256 and 257");
    }

    @Test
    @Timeout(30)
    void megabytePieceMergesInNearLinearTime() {
        BytePairEncoder bpe = new BytePairEncoder(TestVocabularies.ranks("aa", "aaaa", "aaaaaaaa"));
        byte[] piece = new byte[1 << 20];
        Arrays.fill(piece, (byte) 'a');
        int[] ids = encode(bpe, piece);
        assertThat(ids).hasSize((1 << 20) / 8).containsOnly(258);
    }
}
