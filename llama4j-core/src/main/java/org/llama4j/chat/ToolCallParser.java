package org.llama4j.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Recognises tool calls in Llama 4 model output, in both forms the model family uses:
 * <ul>
 *   <li>JSON: {@code {"name": "f", "parameters": {...}}} (also {@code "arguments"}, an arguments string holding
 *   JSON, {@code {"function": {...}}}), several separated by {@code ;} or newlines or given as a JSON array;
 *   </li>
 *   <li>pythonic: {@code [get_weather(city="Lisbon", unit="c"), other(x=1)]} with keyword arguments whose values
 *   are Python literals (strings in either quote style with escapes, ints, floats, True/False/None, lists,
 *   tuples, dicts).</li>
 * </ul>
 * Either may be wrapped in {@code <|python_start|>...<|python_end|>}. Anything that is not entirely well-formed
 * calls comes back as {@link ToolCallParse.Text}; parsing never throws.
 */
public final class ToolCallParser {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String PYTHON_START = "<|python_start|>";
    private static final String PYTHON_END = "<|python_end|>";
    private static final int MAX_DEPTH = 100;

    private ToolCallParser() {
    }

    public static ToolCallParse parse(String output) {
        if (output == null) {
            return new ToolCallParse.Text("");
        }
        String content = "";
        String body = output;
        int start = output.indexOf(PYTHON_START);
        if (start >= 0) {
            content = output.substring(0, start).strip();
            int end = output.indexOf(PYTHON_END, start);
            body = end < 0 ? output.substring(start + PYTHON_START.length())
                    : output.substring(start + PYTHON_START.length(), end) + output.substring(end + PYTHON_END.length());
        }
        body = body.strip();
        if (body.isEmpty()) {
            return new ToolCallParse.Text(output);
        }
        Optional<List<ToolCall>> calls = body.startsWith("{") || body.startsWith("[{")
                ? parseJsonCalls(body) : Optional.empty();
        if (calls.isEmpty()) {
            try {
                // Bare "f(x=1)" only inside <|python_start|>: as a whole answer it is too easily ordinary prose.
                calls = Optional.of(new Pythonic(body).parseCalls(start >= 0));
            } catch (IllegalArgumentException | StackOverflowError e) {
                calls = Optional.empty();
            }
        }
        return calls.filter(c -> !c.isEmpty())
                .<ToolCallParse>map(c -> new ToolCallParse.Calls(c, contentOf(start, output)))
                .orElseGet(() -> new ToolCallParse.Text(output));
    }

    private static String contentOf(int pythonStart, String output) {
        return pythonStart >= 0 ? output.substring(0, pythonStart).strip() : "";
    }

    // ---------------------------------------------------------------- JSON form

    private static Optional<List<ToolCall>> parseJsonCalls(String body) {
        List<ToolCall> calls = new ArrayList<>();
        int i = 0;
        while (i < body.length()) {
            char c = body.charAt(i);
            if (Character.isWhitespace(c) || c == ';' || c == ',') {
                i++;
                continue;
            }
            if (c != '{' && c != '[') {
                return Optional.empty();
            }
            int end = matchingEnd(body, i);
            if (end < 0) {
                return Optional.empty();
            }
            JsonNode node;
            try {
                node = JSON.readTree(body.substring(i, end));
            } catch (JsonProcessingException e) {
                return Optional.empty();
            }
            if (node.isArray()) {
                for (JsonNode item : node) {
                    Optional<ToolCall> call = jsonCall(item);
                    if (call.isEmpty()) {
                        return Optional.empty();
                    }
                    calls.add(call.get());
                }
            } else {
                Optional<ToolCall> call = jsonCall(node);
                if (call.isEmpty()) {
                    return Optional.empty();
                }
                calls.add(call.get());
            }
            i = end;
        }
        return Optional.of(calls);
    }

    /** End (exclusive) of the JSON object/array starting at {@code start}, skipping strings; -1 if unbalanced. */
    private static int matchingEnd(String s, int start) {
        int depth = 0;
        boolean inString = false;
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            switch (c) {
                case '"' -> inString = true;
                case '{', '[' -> depth++;
                case '}', ']' -> {
                    if (--depth == 0) {
                        return i + 1;
                    }
                }
                default -> { }
            }
        }
        return -1;
    }

    private static Optional<ToolCall> jsonCall(JsonNode node) {
        if (!node.isObject()) {
            return Optional.empty();
        }
        JsonNode fn = node.path("function").isObject() ? node.get("function") : node;
        JsonNode name = fn.path("name");
        if (!name.isTextual() || name.textValue().isBlank()) {
            return Optional.empty();
        }
        JsonNode args = fn.has("parameters") ? fn.get("parameters") : fn.get("arguments");
        if (args == null || args.isNull()) {
            args = NODES.objectNode();
        }
        if (args.isTextual()) {
            try {
                args = JSON.readTree(args.textValue());
            } catch (JsonProcessingException e) {
                return Optional.empty();
            }
        }
        if (!args.isObject()) {
            return Optional.empty();
        }
        return Optional.of(new ToolCall(name.textValue(), args));
    }

    // ---------------------------------------------------------------- pythonic form

    /** A strict parser for {@code [f(k=v, ...), ...]} with Python literal values. */
    private static final class Pythonic {
        private final String s;
        private int i;
        private int depth;

        Pythonic(String s) {
            this.s = s;
        }

        private IllegalArgumentException fail(String what) {
            return new IllegalArgumentException(what + " at offset " + i);
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private boolean skip(char c) {
            skipSpace();
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!skip(c)) {
                throw fail("expected '" + c + "'");
            }
        }

        List<ToolCall> parseCalls(boolean allowBare) {
            List<ToolCall> calls = new ArrayList<>();
            boolean bracketed = skip('[');
            if (!bracketed && !allowBare) {
                throw fail("expected '['");
            }
            do {
                skipSpace();
                if (bracketed && i < s.length() && s.charAt(i) == ']') {
                    break;
                }
                calls.add(call());
            } while (skip(','));
            if (bracketed) {
                expect(']');
            }
            skipSpace();
            if (i != s.length()) {
                throw fail("trailing text");
            }
            return calls;
        }

        private String identifier() {
            skipSpace();
            int start = i;
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_'
                    || s.charAt(i) == '.' && i > start)) {
                i++;
            }
            if (start == i || Character.isDigit(s.charAt(start))) {
                throw fail("expected a name");
            }
            return s.substring(start, i);
        }

        private ToolCall call() {
            String name = identifier();
            if (name.endsWith(".call")) { // Meta's builtin tools: brave_search.call(query="...")
                name = name.substring(0, name.length() - ".call".length());
            }
            expect('(');
            ObjectNode args = NODES.objectNode();
            if (!skip(')')) {
                do {
                    if (skip(')')) {
                        i--;
                        break;
                    }
                    String key = identifier();
                    if (key.contains(".")) {
                        throw fail("bad argument name");
                    }
                    expect('=');
                    if (args.has(key)) {
                        throw fail("repeated argument " + key);
                    }
                    args.set(key, value());
                } while (skip(','));
                expect(')');
            }
            return new ToolCall(name, args);
        }

        private JsonNode value() {
            if (++depth > MAX_DEPTH) {
                throw fail("nesting too deep");
            }
            try {
                skipSpace();
                if (i >= s.length()) {
                    throw fail("expected a value");
                }
                char c = s.charAt(i);
                if (c == '"' || c == '\'') {
                    return NODES.textNode(string());
                }
                if (c == '[' || c == '(') {
                    char close = c == '[' ? ']' : ')';
                    i++;
                    ArrayNode arr = NODES.arrayNode();
                    while (!skip(close)) {
                        if (!arr.isEmpty()) {
                            expect(',');
                            if (skip(close)) {
                                break;
                            }
                        }
                        arr.add(value());
                    }
                    return arr;
                }
                if (c == '{') {
                    i++;
                    ObjectNode obj = NODES.objectNode();
                    while (!skip('}')) {
                        if (!obj.isEmpty()) {
                            expect(',');
                            if (skip('}')) {
                                break;
                            }
                        }
                        JsonNode key = value();
                        if (!key.isValueNode() || key.isNull()) {
                            throw fail("unsupported dict key");
                        }
                        expect(':');
                        obj.set(key.asText(), value());
                    }
                    return obj;
                }
                if (c == '-' || c == '+' || c == '.' || Character.isDigit(c)) {
                    return number();
                }
                String word = identifier();
                return switch (word) {
                    case "True", "true" -> NODES.booleanNode(true);
                    case "False", "false" -> NODES.booleanNode(false);
                    case "None", "null" -> NODES.nullNode();
                    default -> throw fail("unexpected name " + word);
                };
            } finally {
                depth--;
            }
        }

        private JsonNode number() {
            int start = i;
            if (s.charAt(i) == '-' || s.charAt(i) == '+') {
                i++;
            }
            boolean isFloat = false;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (Character.isDigit(c) || c == '_') {
                    i++;
                } else if (c == '.' || c == 'e' || c == 'E') {
                    isFloat = true;
                    i++;
                    if ((c == 'e' || c == 'E') && i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
                        i++;
                    }
                } else {
                    break;
                }
            }
            String text = s.substring(start, i).replace("_", "");
            try {
                if (isFloat) {
                    return NODES.numberNode(Double.parseDouble(text));
                }
                return NODES.numberNode(new java.math.BigInteger(text));
            } catch (NumberFormatException e) {
                throw fail("bad number " + text);
            }
        }

        private String string() {
            char quote = s.charAt(i++);
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw fail("unterminated string");
                }
                char c = s.charAt(i++);
                if (c == quote) {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (i >= s.length()) {
                    throw fail("unterminated string");
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case '0' -> sb.append('\0');
                    case '\\', '\'', '"' -> sb.append(e);
                    case '\n' -> { }
                    case 'x', 'u', 'U' -> {
                        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        if (i + n > s.length()) {
                            throw fail("truncated escape");
                        }
                        try {
                            sb.appendCodePoint(Integer.parseInt(s.substring(i, i + n), 16));
                        } catch (IllegalArgumentException ex) {
                            throw fail("bad escape");
                        }
                        i += n;
                    }
                    default -> sb.append('\\').append(e);
                }
            }
        }
    }
}
