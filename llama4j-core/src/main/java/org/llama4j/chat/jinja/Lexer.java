package org.llama4j.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits template source into text and tag tokens, applying Jinja's whitespace control: {@code {%-}/{@code -%}}
 * strip all whitespace on that side, {@code trim_blocks} removes the first newline after a block or comment tag,
 * {@code lstrip_blocks} removes spaces and tabs between a line start and a block or comment tag ({@code {%+}
 * disables it), and like Jinja's default ({@code keep_trailing_newline=False}) one trailing newline of the source
 * is dropped. Comments vanish; {@code {% raw %}} bodies become text.
 */
final class Lexer {
    enum Type { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    record Token(Type type, String value, Pos pos) {
        boolean is(Type t, String v) {
            return type == t && value.equals(v);
        }

        boolean isName(String v) {
            return is(Type.NAME, v);
        }

        boolean isOp(String v) {
            return is(Type.OP, v);
        }

        @Override
        public String toString() {
            return switch (type) {
                case EOF -> "end of template";
                case VAR_END -> "'}}'";
                case BLOCK_END -> "'%}'";
                case STRING -> "string literal";
                default -> "'" + value + "'";
            };
        }
    }

    private static final String[] OPERATORS = {
        "**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{",
        "}", ",", ".", ":", "|",
    };
    private static final Pattern END_RAW = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*([-+]?)%}");

    private final String src;
    private final boolean trimBlocks;
    private final boolean lstripBlocks;
    private final List<Token> out = new ArrayList<>();
    private int pos;
    private int line = 1;
    private int lineStart;
    /** Whether the last consumed text ended with a newline: lstrip_blocks may then strip before a tag. */
    private boolean lineStarting = true;

    private Lexer(String src, boolean trimBlocks, boolean lstripBlocks) {
        this.src = src.endsWith("\n") ? src.substring(0, src.length() - 1) : src;
        this.trimBlocks = trimBlocks;
        this.lstripBlocks = lstripBlocks;
    }

    static List<Token> tokenize(String src, boolean trimBlocks, boolean lstripBlocks) {
        Lexer lx = new Lexer(src, trimBlocks, lstripBlocks);
        lx.run();
        return lx.out;
    }

    private Pos here() {
        return new Pos(line, pos - lineStart + 1);
    }

    private void advanceTo(int to) {
        for (int i = pos; i < to; i++) {
            if (src.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        pos = to;
    }

    private void run() {
        while (pos < src.length()) {
            int tag = nextTagStart(pos);
            int textEnd = tag < 0 ? src.length() : tag;
            Pos textPos = here();
            String text = src.substring(pos, textEnd);
            if (tag >= 0) {
                char kind = src.charAt(tag + 1);
                char modifier = tag + 2 < src.length() ? src.charAt(tag + 2) : 0;
                if (modifier == '-') {
                    text = stripTrailing(text);
                } else if (lstripBlocks && modifier != '+' && (kind == '%' || kind == '#')) {
                    int lineBegin = text.lastIndexOf('\n') + 1;
                    if ((lineBegin > 0 || lineStarting) && isSpacesOrTabs(text, lineBegin)) {
                        text = text.substring(0, lineBegin);
                    }
                }
            }
            if (!text.isEmpty()) {
                out.add(new Token(Type.TEXT, text, textPos));
            }
            advanceTo(textEnd);
            if (tag < 0) {
                break;
            }
            char kind = src.charAt(tag + 1);
            Pos tagPos = here();
            int bodyStart = tag + 2;
            if (bodyStart < src.length() && (src.charAt(bodyStart) == '-' || src.charAt(bodyStart) == '+')) {
                bodyStart++;
            }
            advanceTo(bodyStart);
            switch (kind) {
                case '#' -> comment(tagPos);
                case '{' -> {
                    out.add(new Token(Type.VAR_BEGIN, "{{", tagPos));
                    expressionTokens('}', tagPos);
                }
                default -> {
                    int first = out.size();
                    out.add(new Token(Type.BLOCK_BEGIN, "{%", tagPos));
                    expressionTokens('%', tagPos);
                    if (out.size() == first + 3 && out.get(first + 1).isName("raw")) {
                        out.subList(first, out.size()).clear();
                        raw(tagPos);
                    }
                }
            }
        }
        out.add(new Token(Type.EOF, "", here()));
    }

    private int nextTagStart(int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    private static boolean isSpacesOrTabs(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (s.charAt(i) != ' ' && s.charAt(i) != '\t') {
                return false;
            }
        }
        return true;
    }

    private static String stripTrailing(String s) {
        int end = s.length();
        while (end > 0 && Character.isWhitespace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    /** Consumes what follows a closing tag according to its modifier ({@code -}, {@code +} or none). */
    private void afterTagEnd(char modifier, boolean blockLike) {
        int p = pos;
        if (modifier == '-') {
            while (p < src.length() && Character.isWhitespace(src.charAt(p))) {
                p++;
            }
        } else if (modifier != '+' && blockLike && trimBlocks && p < src.length() && src.charAt(p) == '\n') {
            p++;
        }
        lineStarting = p > pos ? src.charAt(p - 1) == '\n' : false;
        advanceTo(p);
    }

    private void comment(Pos start) {
        int end = src.indexOf("#}", pos);
        if (end < 0) {
            throw start.syntax("unclosed comment: missing '#}'");
        }
        char modifier = end > pos && (src.charAt(end - 1) == '-' || src.charAt(end - 1) == '+') ? src.charAt(end - 1) : 0;
        advanceTo(end + 2);
        afterTagEnd(modifier, true);
    }

    private void raw(Pos start) {
        Matcher m = END_RAW.matcher(src);
        if (!m.find(pos)) {
            throw start.syntax("unclosed 'raw' block: missing '{% endraw %}'");
        }
        String body = src.substring(pos, m.start());
        if (m.group(1).equals("-")) {
            body = stripTrailing(body);
        }
        if (!body.isEmpty()) {
            out.add(new Token(Type.TEXT, body, here()));
        }
        advanceTo(m.end());
        afterTagEnd(m.group(2).isEmpty() ? 0 : m.group(2).charAt(0), true);
    }

    /** Lexes the inside of a {@code {{ }}} or {@code {% %}} tag up to its closing delimiter. */
    private void expressionTokens(char closer, Pos tagPos) {
        int depth = 0;
        while (true) {
            while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
                advanceTo(pos + 1);
            }
            if (pos >= src.length()) {
                throw tagPos.syntax("unclosed tag: missing '" + closer + "}'");
            }
            char c = src.charAt(pos);
            if (depth == 0) {
                char modifier = 0;
                int at = pos;
                if ((c == '-' || c == '+') && at + 1 < src.length()) {
                    modifier = c;
                    at++;
                }
                if (src.startsWith(closer + "}", at)) {
                    Pos endPos = here();
                    advanceTo(at + 2);
                    out.add(new Token(closer == '}' ? Type.VAR_END : Type.BLOCK_END, closer + "}", endPos));
                    afterTagEnd(modifier, closer == '%');
                    return;
                }
            }
            Pos p = here();
            if (Character.isLetter(c) || c == '_') {
                int e = pos;
                while (e < src.length() && (Character.isLetterOrDigit(src.charAt(e)) || src.charAt(e) == '_')) {
                    e++;
                }
                out.add(new Token(Type.NAME, src.substring(pos, e), p));
                advanceTo(e);
            } else if (Character.isDigit(c)) {
                number(p);
            } else if (c == '\'' || c == '"') {
                string(c, p);
            } else {
                String op = null;
                for (String candidate : OPERATORS) {
                    if (src.startsWith(candidate, pos)) {
                        op = candidate;
                        break;
                    }
                }
                if (op == null) {
                    throw p.syntax("unexpected character '" + c + "'");
                }
                switch (op) {
                    case "(", "[", "{" -> depth++;
                    case ")", "]", "}" -> depth = Math.max(0, depth - 1);
                    default -> { }
                }
                out.add(new Token(Type.OP, op, p));
                advanceTo(pos + op.length());
            }
        }
    }

    private void number(Pos p) {
        int e = pos;
        while (e < src.length() && (Character.isDigit(src.charAt(e)) || src.charAt(e) == '_')) {
            e++;
        }
        boolean isFloat = false;
        if (e + 1 < src.length() && src.charAt(e) == '.' && Character.isDigit(src.charAt(e + 1))) {
            isFloat = true;
            e++;
            while (e < src.length() && (Character.isDigit(src.charAt(e)) || src.charAt(e) == '_')) {
                e++;
            }
        }
        if (e < src.length() && (src.charAt(e) == 'e' || src.charAt(e) == 'E')) {
            int x = e + 1;
            if (x < src.length() && (src.charAt(x) == '+' || src.charAt(x) == '-')) {
                x++;
            }
            if (x < src.length() && Character.isDigit(src.charAt(x))) {
                isFloat = true;
                e = x;
                while (e < src.length() && Character.isDigit(src.charAt(e))) {
                    e++;
                }
            }
        }
        out.add(new Token(isFloat ? Type.FLOAT : Type.INT, src.substring(pos, e).replace("_", ""), p));
        advanceTo(e);
    }

    private void string(char quote, Pos p) {
        StringBuilder sb = new StringBuilder();
        int i = pos + 1;
        while (true) {
            if (i >= src.length()) {
                throw p.syntax("unterminated string literal");
            }
            char c = src.charAt(i);
            if (c == quote) {
                break;
            }
            if (c != '\\') {
                sb.append(c);
                i++;
                continue;
            }
            if (i + 1 >= src.length()) {
                throw p.syntax("unterminated string literal");
            }
            char e = src.charAt(i + 1);
            i += 2;
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case 'a' -> sb.append('\u0007');
                case '0' -> sb.append('\0');
                case '\\', '\'', '"' -> sb.append(e);
                case '\n' -> { } // line continuation
                case 'x', 'u', 'U' -> {
                    int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + n > src.length()) {
                        throw p.syntax("truncated \\" + e + " escape in string literal");
                    }
                    try {
                        sb.appendCodePoint(Integer.parseInt(src.substring(i, i + n), 16));
                    } catch (IllegalArgumentException ex) {
                        throw p.syntax("invalid \\" + e + " escape in string literal");
                    }
                    i += n;
                }
                default -> sb.append('\\').append(e); // Python keeps unknown escapes verbatim
            }
        }
        out.add(new Token(Type.STRING, sb.toString(), p));
        advanceTo(i + 1);
    }
}
