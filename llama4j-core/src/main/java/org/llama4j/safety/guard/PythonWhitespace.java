package org.llama4j.safety.guard;

/**
 * Python's idea of whitespace ({@code str.isspace()}, which {@code str.strip()} uses): Java's
 * {@link Character#isWhitespace} plus the no-break spaces and NEL, which Java leaves out.
 */
final class PythonWhitespace {
    private PythonWhitespace() {
    }

    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || c == '\u00A0' || c == '\u2007' || c == '\u202F' || c == '\u0085';
    }

    static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    static String stripLeading(String s) {
        int start = 0;
        while (start < s.length() && isSpace(s.charAt(start))) {
            start++;
        }
        return s.substring(start);
    }
}
