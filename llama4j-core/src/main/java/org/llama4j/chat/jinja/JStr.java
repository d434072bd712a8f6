package org.llama4j.chat.jinja;

import java.util.BitSet;

/**
 * A template string value that remembers, character by character, which characters came from the input data
 * (message content, tool results, tool schemas, ...) rather than from the template's own text. Rendering keeps
 * that mark so the tokenizer can parse special tokens in template text but never in user-controlled text.
 *
 * <p>Equality, hashing and ordering look only at the characters: a key typed in the template finds the same key
 * in an input dictionary.
 */
public final class JStr implements Comparable<JStr> {
    private static final JStr EMPTY = new JStr("", null);

    private final String text;
    /** Positions of input characters; {@code null} when there are none. Never mutated after construction. */
    private final BitSet input;

    private JStr(String text, BitSet input) {
        this.text = text;
        this.input = input == null || input.isEmpty() ? null : input;
    }

    /** Text written by the template author (literals, bos_token, ...). */
    public static JStr template(String text) {
        return text.isEmpty() ? EMPTY : new JStr(text, null);
    }

    /** Text that came from the input data. */
    public static JStr input(String text) {
        if (text.isEmpty()) {
            return EMPTY;
        }
        BitSet mask = new BitSet(text.length());
        mask.set(0, text.length());
        return new JStr(text, mask);
    }

    public static JStr of(String text, boolean fromInput) {
        return fromInput ? input(text) : template(text);
    }

    public String text() {
        return text;
    }

    public int length() {
        return text.length();
    }

    public boolean isEmpty() {
        return text.isEmpty();
    }

    public boolean hasInput() {
        return input != null;
    }

    public boolean isInput(int index) {
        return input != null && input.get(index);
    }

    public JStr concat(JStr other) {
        if (other.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return other;
        }
        return new Builder().append(this).append(other).build();
    }

    public JStr substring(int from, int to) {
        if (from == 0 && to == text.length()) {
            return this;
        }
        return new JStr(text.substring(from, to), input == null ? null : input.get(from, to));
    }

    public JStr substring(int from) {
        return substring(from, text.length());
    }

    /**
     * A transformation of this string whose characters cannot be mapped back one by one (case mapping that
     * changes length, formatting): the whole result counts as input if any character of this one did.
     */
    public JStr derive(String newText) {
        if (newText.length() == text.length()) {
            return new JStr(newText, input);
        }
        return of(newText, hasInput());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JStr other && other.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public int compareTo(JStr o) {
        return text.compareTo(o.text);
    }

    @Override
    public String toString() {
        return text;
    }

    /** Accumulates characters with their provenance. */
    public static final class Builder {
        private final StringBuilder sb = new StringBuilder();
        private final BitSet mask = new BitSet();

        public Builder append(JStr s) {
            int at = sb.length();
            sb.append(s.text);
            if (s.input != null) {
                for (int i = s.input.nextSetBit(0); i >= 0; i = s.input.nextSetBit(i + 1)) {
                    mask.set(at + i);
                }
            }
            return this;
        }

        public Builder append(String s, boolean fromInput) {
            int at = sb.length();
            sb.append(s);
            if (fromInput) {
                mask.set(at, sb.length());
            }
            return this;
        }

        public int length() {
            return sb.length();
        }

        public JStr build() {
            return new JStr(sb.toString(), (BitSet) mask.clone());
        }
    }
}
