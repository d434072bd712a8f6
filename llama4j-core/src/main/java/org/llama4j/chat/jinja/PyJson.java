package org.llama4j.chat.jinja;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} for template values, as transformers installs it for {@code tojson}: keys in
 * insertion order unless {@code sort_keys}, separators {@code ", "}/{@code ": "} (or {@code ","} before a newline
 * with {@code indent}), non-ASCII kept unless {@code ensure_ascii}, floats printed as Python prints them.
 */
final class PyJson {
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;
    private final boolean ensureAscii;
    private final StringBuilder out = new StringBuilder();

    private PyJson(String indent, String itemSeparator, String keySeparator, boolean sortKeys, boolean ensureAscii) {
        this.indent = indent;
        this.itemSeparator = itemSeparator;
        this.keySeparator = keySeparator;
        this.sortKeys = sortKeys;
        this.ensureAscii = ensureAscii;
    }

    /**
     * @param indent     null for single-line output, else the per-level indent string
     * @param separators null for the defaults, else {item separator, key separator}
     */
    static String dumps(Object value, String indent, String[] separators, boolean sortKeys, boolean ensureAscii) {
        String item = separators != null ? separators[0] : indent == null ? ", " : ",";
        String key = separators != null ? separators[1] : ": ";
        PyJson j = new PyJson(indent, item, key, sortKeys, ensureAscii);
        j.write(value, 0);
        return j.out.toString();
    }

    private void newline(int level) {
        if (indent != null) {
            out.append('\n');
            out.append(indent.repeat(level));
        }
    }

    private void write(Object v, int level) {
        if (level > 200) {
            throw new IllegalArgumentException("value nested too deeply for tojson");
        }
        switch (v) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Long l -> out.append(l);
            case Double d -> out.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity"
                    : "-Infinity") : Values.pyFloat(d));
            case JStr s -> string(s.text());
            case Collection<?> c -> {
                if (c.isEmpty()) {
                    out.append("[]");
                    return;
                }
                out.append('[');
                boolean first = true;
                for (Object item : c) {
                    if (!first) {
                        out.append(itemSeparator);
                    }
                    first = false;
                    newline(level + 1);
                    write(item, level + 1);
                }
                newline(level);
                out.append(']');
            }
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    out.append("{}");
                    return;
                }
                List<Map.Entry<String, Object>> entries = new ArrayList<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    entries.add(Map.entry(key(e.getKey()), e.getValue() == null ? NULL : e.getValue()));
                }
                if (sortKeys) {
                    entries.sort(Map.Entry.comparingByKey());
                }
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, Object> e : entries) {
                    if (!first) {
                        out.append(itemSeparator);
                    }
                    first = false;
                    newline(level + 1);
                    string(e.getKey());
                    out.append(keySeparator);
                    write(e.getValue() == NULL ? null : e.getValue(), level + 1);
                }
                newline(level);
                out.append('}');
            }
            case Namespace n -> throw new IllegalArgumentException("Object of type Namespace is not JSON serializable");
            default -> throw new IllegalArgumentException("Object of type " + Values.typeName(v)
                    + " is not JSON serializable");
        }
    }

    /** Map.entry rejects null values; this stands for JSON null while sorting. */
    private static final Object NULL = new Object();

    private static String key(Object k) {
        return switch (k) {
            case JStr s -> s.text();
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Long l -> l.toString();
            case Double d -> Values.pyFloat(d);
            default -> throw new IllegalArgumentException("keys must be str, int, float, bool or None, not "
                    + Values.typeName(k));
        };
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
