package org.llama4j.tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * Finds special-token text in code points: the leftmost occurrence, and of several tokens starting there the
 * longest (HF {@code tokenizers} matches added tokens leftmost-longest; tiktoken's alternation order is a hash
 * order, so it defines nothing better, and no Llama special token is a prefix of another). A trie over code
 * points keeps the scan linear in the text length times the longest token.
 */
final class SpecialTokenMatcher {
    private static final class Node {
        final Map<Integer, Node> children = new HashMap<>(4);
        int id = -1;
    }

    private final Node root = new Node();
    private final boolean[] firstBmp = new boolean[0x10000];

    SpecialTokenMatcher(Map<String, Integer> tokens) {
        tokens.forEach((text, id) -> {
            if (text.isEmpty()) {
                throw new IllegalArgumentException("special token " + id + " has empty text");
            }
            Node n = root;
            for (int cp : text.codePoints().toArray()) {
                n = n.children.computeIfAbsent(cp, k -> new Node());
            }
            n.id = id;
            int first = text.codePointAt(0);
            if (first < 0x10000) {
                firstBmp[first] = true;
            }
        });
    }

    /** The first special token in {@code text[from, to)}, or {@code null} when none occurs. */
    Match find(int[] text, int from, int to) {
        for (int i = from; i < to; i++) {
            int cp = text[i];
            if (cp < 0x10000 && !firstBmp[cp]) {
                continue;
            }
            Node n = root;
            int bestId = -1;
            int bestEnd = -1;
            for (int j = i; j < to; j++) {
                n = n.children.get(text[j]);
                if (n == null) {
                    break;
                }
                if (n.id >= 0) {
                    bestId = n.id;
                    bestEnd = j + 1;
                }
            }
            if (bestId >= 0) {
                return new Match(i, bestEnd, bestId);
            }
        }
        return null;
    }

    record Match(int start, int end, int id) {
    }
}
