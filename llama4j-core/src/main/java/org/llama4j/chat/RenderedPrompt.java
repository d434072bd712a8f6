package org.llama4j.chat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.llama4j.chat.jinja.JStr;

/**
 * A rendered chat prompt: the text exactly as Jinja would produce it, plus its provenance segments (adjacent
 * segments always differ in provenance; their texts concatenate to {@code text}).
 */
public record RenderedPrompt(String text, List<Segment> segments) {
    public RenderedPrompt {
        segments = List.copyOf(segments);
    }

    static RenderedPrompt of(JStr rendered) {
        List<Segment> segments = new ArrayList<>();
        String t = rendered.text();
        int start = 0;
        for (int i = 1; i <= t.length(); i++) {
            if (i == t.length() || rendered.isInput(i) != rendered.isInput(start)) {
                segments.add(new Segment(rendered.isInput(start) ? Segment.Provenance.CONTENT
                        : Segment.Provenance.TEMPLATE, t.substring(start, i)));
                start = i;
            }
        }
        return new RenderedPrompt(t, segments);
    }

    /**
     * Splits the prompt for encoding: special-token strings found in template segments (leftmost first, longest
     * at a position) become {@link PromptPiece.SpecialToken}s; everything between two special tokens, template
     * and content alike, is one {@link PromptPiece.PlainText}, so the ids equal encoding the whole string with
     * specials allowed whenever the content holds no special-token text.
     *
     * @param specialTokens the tokenizer's special-token strings
     */
    public List<PromptPiece> pieces(Set<String> specialTokens) {
        Map<Character, List<String>> byFirstChar = new HashMap<>();
        for (String s : specialTokens) {
            if (!s.isEmpty()) {
                byFirstChar.computeIfAbsent(s.charAt(0), c -> new ArrayList<>()).add(s);
            }
        }
        byFirstChar.values().forEach(l -> l.sort(Comparator.comparingInt(String::length).reversed()));
        List<PromptPiece> out = new ArrayList<>();
        StringBuilder plain = new StringBuilder();
        for (Segment seg : segments) {
            String t = seg.text();
            if (seg.provenance() == Segment.Provenance.CONTENT) {
                plain.append(t);
                continue;
            }
            int i = 0;
            while (i < t.length()) {
                String match = null;
                for (String candidate : byFirstChar.getOrDefault(t.charAt(i), List.of())) {
                    if (t.startsWith(candidate, i)) {
                        match = candidate;
                        break;
                    }
                }
                if (match == null) {
                    plain.append(t.charAt(i++));
                    continue;
                }
                if (!plain.isEmpty()) {
                    out.add(new PromptPiece.PlainText(plain.toString()));
                    plain.setLength(0);
                }
                out.add(new PromptPiece.SpecialToken(match));
                i += match.length();
            }
        }
        if (!plain.isEmpty()) {
            out.add(new PromptPiece.PlainText(plain.toString()));
        }
        return out;
    }
}
