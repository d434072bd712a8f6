package org.llama4j.chat.jinja;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python semantics for the template value model: {@code null} (None), {@link Boolean}, {@link Long} (int),
 * {@link Double} (float), {@link JStr} (str), {@link List} (list; {@link PyTuple} for tuples), {@link Map}
 * (dict, insertion ordered), {@link Namespace}, {@link JinjaCallable}, {@link Undefined}.
 */
public final class Values {
    private Values() {
    }

    /** Converts Jackson JSON to template values; strings are marked as input when {@code fromInput}. */
    public static Object fromJson(JsonNode node, boolean fromInput) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        return switch (node.getNodeType()) {
            case STRING -> JStr.of(node.textValue(), fromInput);
            case BOOLEAN -> node.booleanValue();
            case NUMBER -> node.isIntegralNumber() && node.canConvertToLong() ? (Object) node.longValue()
                    : (Object) node.doubleValue();
            case ARRAY -> {
                List<Object> list = new ArrayList<>(node.size());
                node.forEach(n -> list.add(fromJson(n, fromInput)));
                yield list;
            }
            case OBJECT -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : node.properties()) {
                    map.put(JStr.of(e.getKey(), fromInput), fromJson(e.getValue(), fromInput));
                }
                yield map;
            }
            default -> JStr.of(node.asText(), fromInput);
        };
    }

    /** Python {@code json.dumps(value, ensure_ascii=...)} with default separators, keys in document order. */
    public static String pythonJsonDumps(JsonNode value, boolean ensureAscii) {
        return PyJson.dumps(fromJson(value, false), null, null, false, ensureAscii);
    }

    /** Converts plain Java values (String, numbers, collections, maps, JsonNode) to template values. */
    public static Object fromJava(Object value, boolean fromInput) {
        return switch (value) {
            case null -> null;
            case JStr s -> s;
            case CharSequence s -> JStr.of(s.toString(), fromInput);
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case Double d -> d;
            case Float f -> (double) f;
            case JsonNode n -> fromJson(n, fromInput);
            case Map<?, ?> m -> {
                Map<Object, Object> out = new LinkedHashMap<>();
                m.forEach((k, v) -> out.put(fromJava(k, fromInput), fromJava(v, fromInput)));
                yield out;
            }
            case Collection<?> c -> {
                List<Object> out = new ArrayList<>(c.size());
                c.forEach(v -> out.add(fromJava(v, fromInput)));
                yield out;
            }
            case JinjaCallable f -> f;
            case Undefined u -> u;
            default -> throw new IllegalArgumentException("unsupported template value type " + value.getClass().getName());
        };
    }

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Double d -> d != 0.0;
            case JStr s -> !s.isEmpty();
            case Collection<?> c -> !c.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            case Undefined u -> false;
            default -> true;
        };
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case Boolean b -> "bool";
            case Long l -> "int";
            case Double d -> "float";
            case JStr s -> "str";
            case PyTuple t -> "tuple";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case Namespace n -> "Namespace";
            case Undefined u -> "Undefined";
            case JinjaCallable c -> "function";
            case LoopInfo l -> "LoopContext";
            default -> v.getClass().getSimpleName();
        };
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static double toDouble(Object v) {
        return switch (v) {
            case Long l -> l;
            case Double d -> d;
            case Boolean b -> b ? 1 : 0;
            default -> throw new IllegalArgumentException(typeName(v));
        };
    }

    /** Python {@code str(v)}, keeping input marks of strings (and of strings inside containers). */
    static JStr str(Object v) {
        if (v instanceof JStr s) {
            return s;
        }
        if (v instanceof Undefined) {
            return JStr.template("");
        }
        return JStr.of(repr(v, false), containsInput(v));
    }

    static boolean containsInput(Object v) {
        return switch (v) {
            case JStr s -> s.hasInput();
            case Collection<?> c -> c.stream().anyMatch(Values::containsInput);
            case Map<?, ?> m -> m.entrySet().stream()
                    .anyMatch(e -> containsInput(e.getKey()) || containsInput(e.getValue()));
            case null, default -> false;
        };
    }

    /** Python {@code repr(v)} ({@code topLevelString=false} prints a top-level str unquoted, like str()). */
    static String repr(Object v, boolean quoteStrings) {
        StringBuilder sb = new StringBuilder();
        repr(v, quoteStrings, sb, 0);
        return sb.toString();
    }

    private static void repr(Object v, boolean quote, StringBuilder sb, int depth) {
        if (depth > 100) {
            throw new IllegalStateException("value nested too deeply to print");
        }
        switch (v) {
            case null -> sb.append("None");
            case Boolean b -> sb.append(b ? "True" : "False");
            case Long l -> sb.append(l);
            case Double d -> sb.append(pyFloat(d));
            case JStr s -> {
                if (quote) {
                    pyQuote(s.text(), sb);
                } else {
                    sb.append(s.text());
                }
            }
            case PyTuple t -> {
                sb.append('(');
                for (int i = 0; i < t.size(); i++) {
                    if (i > 0) {
                        sb.append(", ");
                    }
                    repr(t.get(i), true, sb, depth + 1);
                }
                sb.append(t.size() == 1 ? ",)" : ")");
            }
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) {
                        sb.append(", ");
                    }
                    repr(l.get(i), true, sb, depth + 1);
                }
                sb.append(']');
            }
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        sb.append(", ");
                    }
                    first = false;
                    repr(e.getKey(), true, sb, depth + 1);
                    sb.append(": ");
                    repr(e.getValue(), true, sb, depth + 1);
                }
                sb.append('}');
            }
            case Namespace n -> sb.append("<Namespace ").append(repr(n.attributes, true)).append('>');
            case Undefined u -> { }
            case JinjaCallable c -> sb.append("<function>");
            default -> sb.append('<').append(typeName(v)).append('>');
        }
    }

    private static void pyQuote(String s, StringBuilder sb) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(q);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == q) {
                        sb.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append(q);
    }

    /** Python {@code repr(float)}: shortest round-trip digits, exponent form outside [1e-4, 1e16). */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp10 = digits.length() - 1 - bd.scale();
        String sign = d < 0 ? "-" : "";
        if (exp10 >= -4 && exp10 < 16) {
            String plain = bd.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
        return sign + mantissa + "e" + (exp10 < 0 ? "-" : "+") + (Math.abs(exp10) < 10 ? "0" : "") + Math.abs(exp10);
    }

    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) == toDouble(b);
            }
            return asLong(a) == asLong(b);
        }
        if (a instanceof JStr x && b instanceof JStr y) {
            return x.equals(y);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size() || (x instanceof PyTuple) != (y instanceof PyTuple)) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Undefined && b instanceof Undefined) {
            return true;
        }
        return a.equals(b);
    }

    static long asLong(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : (Long) v;
    }

    /** Python ordering; throws {@link IllegalArgumentException} with Python's message for unorderable types. */
    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return Double.compare(toDouble(a), toDouble(b));
            }
            return Long.compare(asLong(a), asLong(b));
        }
        if (a instanceof JStr x && b instanceof JStr y) {
            return x.compareTo(y);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return compare(x.get(i), y.get(i));
                }
            }
            return Integer.compare(x.size(), y.size());
        }
        throw new IllegalArgumentException("'<' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    /** Python iteration: strings by character, dicts by key, Undefined as empty. */
    static List<Object> iterate(Object v) {
        return switch (v) {
            case List<?> l -> new ArrayList<>(l);
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case JStr s -> {
                List<Object> chars = new ArrayList<>(s.length());
                for (int i = 0; i < s.length(); ) {
                    int end = s.text().offsetByCodePoints(i, 1);
                    chars.add(s.substring(i, end));
                    i = end;
                }
                yield chars;
            }
            case Undefined u -> new ArrayList<>();
            case Namespace n -> throw new IllegalArgumentException("'Namespace' object is not iterable");
            case null, default -> throw new IllegalArgumentException("'" + typeName(v) + "' object is not iterable");
        };
    }

    static boolean isIterable(Object v) {
        return v instanceof List || v instanceof Map || v instanceof JStr || v instanceof Undefined;
    }

    static int length(Object v) {
        return switch (v) {
            case JStr s -> s.text().codePointCount(0, s.length());
            case Collection<?> c -> c.size();
            case Map<?, ?> m -> m.size();
            case Undefined u -> 0;
            case null, default -> throw new IllegalArgumentException("object of type '" + typeName(v)
                    + "' has no len()");
        };
    }

    static boolean contains(Object container, Object item) {
        return switch (container) {
            case JStr s when item instanceof JStr sub -> s.text().contains(sub.text());
            case JStr s -> throw new IllegalArgumentException("'in <string>' requires string as left operand, not "
                    + typeName(item));
            case Map<?, ?> m -> item instanceof List && !(item instanceof PyTuple) ? false : containsKey(m, item);
            case Collection<?> c -> c.stream().anyMatch(x -> eq(x, item));
            case Undefined u -> false;
            case null, default -> throw new IllegalArgumentException("argument of type '" + typeName(container)
                    + "' is not iterable");
        };
    }

    static boolean containsKey(Map<?, ?> m, Object key) {
        if (m.containsKey(key)) {
            return true;
        }
        if (key instanceof Long || key instanceof Double || key instanceof Boolean) {
            return m.keySet().stream().anyMatch(k -> eq(k, key));
        }
        return false;
    }

    static Iterator<Object> iterator(Object v) {
        return iterate(v).iterator();
    }
}
