package org.llama4j.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Recognises a Llama 4 tool call in the model's complete output. Llama 4 writes either JSON
 * ({@code {"name": "f", "parameters": {...}}}, several separated by {@code ;} or in a list) or Python call
 * syntax ({@code [f(a=1, b="x"), g()]}), optionally between {@code <|python_start|>} and {@code <|python_end|>}.
 * Output counts as tool calls only when all of it (after trimming) is calls; anything else is ordinary content.
 *
 * <p>Interim: replaced by {@code org.llama4j.chat.ToolCallParser} once that lands on main.
 */
final class ToolCallExtractor {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** A parsed call: the function name and its arguments object. */
    record Call(String name, ObjectNode arguments) {
    }

    private ToolCallExtractor() {
    }

    /** Whether {@code partial} output could still become a tool call (used to hold back streamed text). */
    static boolean mayBeToolCall(String partial) {
        String t = stripMarkers(partial).strip();
        if (t.isEmpty()) {
            return true;
        }
        char c = t.charAt(0);
        return c == '{' || c == '[' || partial.stripLeading().startsWith("<|python_start|>")
                || t.matches("(?s)[A-Za-z_][A-Za-z0-9_.]*(\\(.*)?");
    }

    static Optional<List<Call>> extract(String output) {
        String text = stripMarkers(output).strip();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        char first = text.charAt(0);
        if (first == '{' || first == '[') {
            Optional<List<Call>> json = json(text);
            if (json.isPresent()) {
                return json;
            }
        }
        return pythonic(text);
    }

    private static String stripMarkers(String s) {
        return s.replace("<|python_start|>", "").replace("<|python_end|>", "");
    }

    private static Optional<List<Call>> json(String text) {
        List<Call> calls = new ArrayList<>();
        int at = 0;
        try {
            while (at < text.length()) {
                JsonNode node;
                int consumed;
                try (JsonParser p = JSON.createParser(text.substring(at))) {
                    if (p.nextToken() == null) {
                        break;
                    }
                    node = JSON.readTree(p);
                    consumed = (int) p.currentLocation().getCharOffset();
                }
                if (node.isArray()) {
                    for (JsonNode item : node) {
                        if (!addJsonCall(item, calls)) {
                            return Optional.empty();
                        }
                    }
                } else if (!addJsonCall(node, calls)) {
                    return Optional.empty();
                }
                at += consumed;
                // Llama 4 separates several JSON calls with ';' (or just whitespace).
                while (at < text.length() && (text.charAt(at) == ';' || Character.isWhitespace(text.charAt(at)))) {
                    at++;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return calls.isEmpty() ? Optional.empty() : Optional.of(calls);
    }

    private static boolean addJsonCall(JsonNode node, List<Call> calls) {
        if (!node.isObject() || !node.path("name").isTextual() || node.path("name").asText().isBlank()) {
            return false;
        }
        JsonNode args = node.has("parameters") ? node.get("parameters") : node.get("arguments");
        if (args == null || args.isNull()) {
            args = NODES.objectNode();
        }
        if (args.isTextual()) {
            try {
                args = JSON.readTree(args.asText());
            } catch (IOException e) {
                return false;
            }
        }
        if (!args.isObject()) {
            return false;
        }
        calls.add(new Call(node.get("name").asText(), (ObjectNode) args));
        return true;
    }

    /** {@code [f(a=1), g(b="x")]} or {@code f(a=1)}: Python literals only, keyword arguments only. */
    private static Optional<List<Call>> pythonic(String text) {
        try {
            Python p = new Python(text);
            List<Call> calls = p.calls();
            return Optional.of(calls);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** A recursive-descent reader for the subset of Python that Llama 4 tool calls use. */
    private static final class Python {
        private final String s;
        private int i;

        Python(String s) {
            this.s = s;
        }

        List<Call> calls() {
            List<Call> calls = new ArrayList<>();
            skip();
            boolean bracketed = peek() == '[';
            if (bracketed) {
                i++;
            }
            while (true) {
                skip();
                calls.add(call());
                skip();
                if (peek() == ',') {
                    i++;
                    continue;
                }
                break;
            }
            if (bracketed) {
                expect(']');
            }
            skip();
            if (i != s.length()) {
                throw new IllegalArgumentException("trailing text");
            }
            return calls;
        }

        private Call call() {
            String name = identifier(true);
            skip();
            expect('(');
            ObjectNode args = NODES.objectNode();
            skip();
            if (peek() != ')') {
                while (true) {
                    skip();
                    String key = identifier(false);
                    skip();
                    expect('=');
                    args.set(key, value());
                    skip();
                    if (peek() == ',') {
                        i++;
                        skip();
                        if (peek() == ')') {
                            break;
                        }
                        continue;
                    }
                    break;
                }
            }
            expect(')');
            return new Call(name, args);
        }

        private JsonNode value() {
            skip();
            char c = peek();
            if (c == '"' || c == '\'') {
                return NODES.textNode(string());
            }
            if (c == '[' || c == '(') {
                char close = c == '[' ? ']' : ')';
                i++;
                ArrayNode list = NODES.arrayNode();
                skip();
                while (peek() != close) {
                    list.add(value());
                    skip();
                    if (peek() == ',') {
                        i++;
                        skip();
                    } else {
                        break;
                    }
                }
                expect(close);
                return list;
            }
            if (c == '{') {
                i++;
                ObjectNode map = NODES.objectNode();
                skip();
                while (peek() != '}') {
                    JsonNode key = value();
                    if (!key.isTextual()) {
                        throw new IllegalArgumentException("dict keys must be strings");
                    }
                    skip();
                    expect(':');
                    map.set(key.asText(), value());
                    skip();
                    if (peek() == ',') {
                        i++;
                        skip();
                    } else {
                        break;
                    }
                }
                expect('}');
                return map;
            }
            if (c == '-' || c == '+' || Character.isDigit(c) || c == '.') {
                int start = i;
                i++;
                while (i < s.length() && "0123456789.eE+-_".indexOf(s.charAt(i)) >= 0) {
                    i++;
                }
                String num = s.substring(start, i).replace("_", "");
                try {
                    if (num.matches("[+-]?\\d+")) {
                        return NODES.numberNode(new java.math.BigInteger(num));
                    }
                    return NODES.numberNode(new java.math.BigDecimal(num));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad number " + num);
                }
            }
            String word = identifier(false);
            return switch (word) {
                case "True", "true" -> NODES.booleanNode(true);
                case "False", "false" -> NODES.booleanNode(false);
                case "None", "null" -> NODES.nullNode();
                default -> throw new IllegalArgumentException("not a literal: " + word);
            };
        }

        private String string() {
            char quote = s.charAt(i++);
            StringBuilder out = new StringBuilder();
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == quote) {
                    return out.toString();
                }
                if (c == '\\' && i < s.length()) {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> out.append('\n');
                        case 't' -> out.append('\t');
                        case 'r' -> out.append('\r');
                        case 'u' -> {
                            if (i + 4 > s.length()) {
                                throw new IllegalArgumentException("bad escape");
                            }
                            out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> out.append(e);
                    }
                } else {
                    out.append(c);
                }
            }
            throw new IllegalArgumentException("unterminated string");
        }

        private String identifier(boolean dotted) {
            int start = i;
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_'
                    || (dotted && s.charAt(i) == '.' && i > start))) {
                i++;
            }
            if (start == i || Character.isDigit(s.charAt(start))) {
                throw new IllegalArgumentException("identifier expected at " + start);
            }
            return s.substring(start, i);
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + i);
            }
            i++;
        }
    }
}
