package org.llama4j.chat.jinja;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Jinja's builtin filters, with transformers' {@code tojson} (Python {@code json.dumps}). */
final class Filters {
    private Filters() {
    }

    private static final Set<String> NAMES = Set.of("tojson", "trim", "length", "count", "upper", "lower",
            "capitalize", "title", "default", "d", "first", "last", "join", "items", "list", "selectattr",
            "rejectattr", "select", "reject", "map", "replace", "string", "int", "float", "abs", "indent", "safe",
            "escape", "e", "forceescape", "round", "unique", "reverse", "sort", "dictsort", "batch", "striptags",
            "wordcount", "min", "max", "sum", "attr", "center", "truncate", "format", "slice", "pprint", "urlencode",
            "tuple", "bool");
    private static final Pattern TAGS = Pattern.compile("(<!--.*?-->|<[^>]*>)", Pattern.DOTALL);

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    /** Positional argument {@code i} or keyword {@code name}, else {@code dflt}. */
    private static Object arg(List<Object> args, Map<String, Object> kwargs, int i, String name, Object dflt) {
        if (args.size() > i) {
            return args.get(i);
        }
        return kwargs.containsKey(name) ? kwargs.get(name) : dflt;
    }

    private static boolean boolArg(List<Object> args, Map<String, Object> kwargs, int i, String name) {
        return Values.truthy(arg(args, kwargs, i, name, false));
    }

    private static JStr str(Object v) {
        return Values.str(v);
    }

    static Object apply(Interpreter in, String name, Object v, List<Object> args, Map<String, Object> kwargs,
            Pos pos) {
        return switch (name) {
            case "tojson" -> tojson(v, args, kwargs, pos);
            case "trim" -> Methods.strip(str(v), (JStr) arg(args, kwargs, 0, "chars", null), true, true);
            case "length", "count" -> (long) Values.length(v);
            case "upper" -> str(v).derive(str(v).text().toUpperCase());
            case "lower" -> str(v).derive(str(v).text().toLowerCase());
            case "capitalize" -> Methods.capitalize(str(v));
            case "title" -> Methods.title(str(v));
            case "default", "d" -> {
                Object dflt = arg(args, kwargs, 0, "default_value", JStr.template(""));
                boolean onFalsy = boolArg(args, kwargs, 1, "boolean");
                yield v instanceof Undefined || onFalsy && !Values.truthy(v) ? dflt : v;
            }
            case "first" -> {
                List<Object> items = Values.iterate(v);
                yield items.isEmpty() ? new Undefined("No first item, sequence was empty.") : items.getFirst();
            }
            case "last" -> {
                List<Object> items = Values.iterate(v);
                yield items.isEmpty() ? new Undefined("No last item, sequence was empty.") : items.getLast();
            }
            case "join" -> {
                JStr sep = str(arg(args, kwargs, 0, "d", JStr.template("")));
                Object attribute = arg(args, kwargs, 1, "attribute", null);
                JStr.Builder b = new JStr.Builder();
                boolean first = true;
                for (Object item : Values.iterate(v)) {
                    if (!first) {
                        b.append(sep);
                    }
                    first = false;
                    b.append(str(attribute == null ? item : attribute(in, item, attribute, pos)));
                }
                yield b.build();
            }
            case "items" -> {
                if (v instanceof Undefined) {
                    yield new ArrayList<>();
                }
                if (!(v instanceof Map<?, ?> m)) {
                    throw pos.error("filter 'items' needs a mapping, got " + Values.typeName(v));
                }
                List<Object> out = new ArrayList<>();
                m.forEach((k, val) -> out.add(new PyTuple(java.util.Arrays.asList(k, val))));
                yield out;
            }
            case "list" -> Values.iterate(v);
            case "tuple" -> new PyTuple(Values.iterate(v));
            case "bool" -> Values.truthy(v);
            case "selectattr", "rejectattr" -> {
                Object attribute = arg(args, kwargs, 0, "attr", null);
                if (attribute == null) {
                    throw pos.error("filter '" + name + "' needs an attribute name");
                }
                boolean keep = name.equals("selectattr");
                List<Object> out = new ArrayList<>();
                for (Object item : Values.iterate(v)) {
                    Object a = attribute(in, item, attribute, pos);
                    if (testFor(in, a, args, 1, pos) == keep) {
                        out.add(item);
                    }
                }
                yield out;
            }
            case "select", "reject" -> {
                boolean keep = name.equals("select");
                List<Object> out = new ArrayList<>();
                for (Object item : Values.iterate(v)) {
                    if (testFor(in, item, args, 0, pos) == keep) {
                        out.add(item);
                    }
                }
                yield out;
            }
            case "map" -> {
                List<Object> out = new ArrayList<>();
                if (kwargs.containsKey("attribute")) {
                    Object attribute = kwargs.get("attribute");
                    Object dflt = kwargs.get("default");
                    for (Object item : Values.iterate(v)) {
                        Object a = attribute(in, item, attribute, pos);
                        out.add(a instanceof Undefined && kwargs.containsKey("default") ? dflt : a);
                    }
                    yield out;
                }
                if (args.isEmpty() || !(args.getFirst() instanceof JStr filterName)) {
                    throw pos.error("filter 'map' needs a filter name or attribute=...");
                }
                List<Object> rest = args.subList(1, args.size());
                for (Object item : Values.iterate(v)) {
                    out.add(in.callFilter(filterName.text(), item, rest, kwargs, pos));
                }
                yield out;
            }
            case "replace" -> {
                Object count = arg(args, kwargs, 2, "count", null);
                yield Methods.replace(str(v), str(arg(args, kwargs, 0, "old", null)),
                        str(arg(args, kwargs, 1, "new", null)), count == null ? -1 : Values.asLong(count));
            }
            case "string" -> str(v);
            case "safe", "escape", "e", "forceescape" -> name.equals("safe") ? v : escape(str(v));
            case "int" -> toInt(v, arg(args, kwargs, 0, "default", 0L), arg(args, kwargs, 1, "base", 10L));
            case "float" -> toFloat(v, arg(args, kwargs, 0, "default", 0.0));
            case "abs" -> switch (v) {
                case Long l -> Math.absExact(l);
                case Double d -> Math.abs(d);
                case Boolean b -> b ? 1L : 0L;
                case null, default -> throw pos.error("bad operand type for abs(): '" + Values.typeName(v) + "'");
            };
            case "indent" -> indent(str(v), arg(args, kwargs, 0, "width", 4L), boolArg(args, kwargs, 1, "first"),
                    boolArg(args, kwargs, 2, "blank"));
            case "round" -> round(v, Values.asLong(arg(args, kwargs, 0, "precision", 0L)),
                    str(arg(args, kwargs, 1, "method", JStr.template("common"))).text(), pos);
            case "unique" -> {
                boolean caseSensitive = boolArg(args, kwargs, 0, "case_sensitive");
                Object attribute = arg(args, kwargs, 1, "attribute", null);
                List<Object> out = new ArrayList<>();
                List<Object> seen = new ArrayList<>();
                for (Object item : Values.iterate(v)) {
                    Object key = sortKey(attribute == null ? item : attribute(in, item, attribute, pos), caseSensitive);
                    if (seen.stream().noneMatch(s -> Values.eq(s, key))) {
                        seen.add(key);
                        out.add(item);
                    }
                }
                yield out;
            }
            case "reverse" -> {
                if (v instanceof JStr s) {
                    yield s.derive(new StringBuilder(s.text()).reverse().toString());
                }
                List<Object> items = Values.iterate(v);
                java.util.Collections.reverse(items);
                yield items;
            }
            case "sort" -> {
                boolean reverse = boolArg(args, kwargs, 0, "reverse");
                boolean caseSensitive = boolArg(args, kwargs, 1, "case_sensitive");
                Object attribute = arg(args, kwargs, 2, "attribute", null);
                List<Object> items = Values.iterate(v);
                Comparator<Object> cmp = Comparator.comparing(
                        x -> sortKey(attribute == null ? x : attribute(in, x, attribute, pos), caseSensitive),
                        Values::compare);
                items.sort(reverse ? cmp.reversed() : cmp);
                yield items;
            }
            case "dictsort" -> {
                if (!(v instanceof Map<?, ?> m)) {
                    throw pos.error("filter 'dictsort' needs a mapping, got " + Values.typeName(v));
                }
                boolean caseSensitive = boolArg(args, kwargs, 0, "case_sensitive");
                String by = str(arg(args, kwargs, 1, "by", JStr.template("key"))).text();
                boolean reverse = boolArg(args, kwargs, 2, "reverse");
                int idx = switch (by) {
                    case "key" -> 0;
                    case "value" -> 1;
                    default -> throw pos.error("dictsort: 'by' must be 'key' or 'value'");
                };
                List<Object> items = new ArrayList<>();
                m.forEach((k, val) -> items.add(new PyTuple(java.util.Arrays.asList(k, val))));
                Comparator<Object> cmp = Comparator.comparing(x -> sortKey(((List<?>) x).get(idx), caseSensitive),
                        Values::compare);
                items.sort(reverse ? cmp.reversed() : cmp);
                yield items;
            }
            case "batch" -> {
                long size = Values.asLong(arg(args, kwargs, 0, "linecount", null));
                if (size <= 0) {
                    throw pos.error("batch size must be positive");
                }
                Object fill = arg(args, kwargs, 1, "fill_with", null);
                boolean doFill = args.size() > 1 || kwargs.containsKey("fill_with");
                List<Object> out = new ArrayList<>();
                List<Object> current = new ArrayList<>();
                for (Object item : Values.iterate(v)) {
                    current.add(item);
                    if (current.size() == size) {
                        out.add(current);
                        current = new ArrayList<>();
                    }
                }
                if (!current.isEmpty()) {
                    while (doFill && current.size() < size) {
                        current.add(fill);
                    }
                    out.add(current);
                }
                yield out;
            }
            case "slice" -> {
                long slices = Values.asLong(arg(args, kwargs, 0, "slices", null));
                List<Object> items = Values.iterate(v);
                List<Object> out = new ArrayList<>();
                int per = (int) (items.size() / slices);
                int extra = (int) (items.size() % slices);
                int offset = 0;
                for (int i = 0; i < slices; i++) {
                    int start = offset + i * per;
                    if (i < extra) {
                        offset++;
                    }
                    int end = offset + (i + 1) * per;
                    out.add(new ArrayList<>(items.subList(start, end)));
                }
                yield out;
            }
            case "striptags" -> {
                JStr s = str(v);
                String t = TAGS.matcher(s.text()).replaceAll("");
                t = String.join(" ", t.trim().split("\\s+"));
                yield s.derive(t.equals("") ? "" : t);
            }
            case "wordcount" -> {
                String t = str(v).text().trim();
                yield t.isEmpty() ? 0L : (long) t.split("\\s+").length;
            }
            case "min", "max" -> {
                List<Object> items = Values.iterate(v);
                if (items.isEmpty()) {
                    yield new Undefined("No aggregated item, sequence was empty.");
                }
                boolean caseSensitive = boolArg(args, kwargs, 0, "case_sensitive");
                Object attribute = arg(args, kwargs, 1, "attribute", null);
                Comparator<Object> cmp = Comparator.comparing(
                        x -> sortKey(attribute == null ? x : attribute(in, x, attribute, pos), caseSensitive),
                        Values::compare);
                yield name.equals("min") ? items.stream().min(cmp).orElseThrow() : items.stream().max(cmp).orElseThrow();
            }
            case "sum" -> {
                Object attribute = arg(args, kwargs, 0, "attribute", null);
                Object total = arg(args, kwargs, 1, "start", 0L);
                for (Object item : Values.iterate(v)) {
                    Object x = attribute == null ? item : attribute(in, item, attribute, pos);
                    total = Operators.binary(in, Ast.BinaryOp.ADD, total, x, pos);
                }
                yield total;
            }
            case "attr" -> in.getAttr(v, str(arg(args, kwargs, 0, "name", null)).text(), pos);
            case "center" -> {
                JStr s = str(v);
                int width = (int) Values.asLong(arg(args, kwargs, 0, "width", 80L));
                int total = width - s.length();
                if (total <= 0) {
                    yield s;
                }
                int left = total / 2 + (total & width & 1);
                yield JStr.template(" ".repeat(left)).concat(s).concat(JStr.template(" ".repeat(total - left)));
            }
            case "truncate" -> {
                JStr s = str(v);
                int length = (int) Values.asLong(arg(args, kwargs, 0, "length", 255L));
                boolean killwords = boolArg(args, kwargs, 1, "killwords");
                JStr end = str(arg(args, kwargs, 2, "end", JStr.template("...")));
                long leeway = Values.asLong(arg(args, kwargs, 3, "leeway", 5L));
                if (s.length() <= length + leeway) {
                    yield s;
                }
                int cut = Math.max(0, length - end.length());
                if (!killwords) {
                    int space = s.text().lastIndexOf(' ', cut);
                    cut = space > 0 ? space : cut;
                }
                yield s.substring(0, cut).concat(end);
            }
            case "format" -> format(str(v), args, pos);
            case "pprint" -> JStr.of(Values.repr(v, true), Values.containsInput(v));
            case "urlencode" -> str(v).derive(java.net.URLEncoder.encode(str(v).text(),
                    java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20"));
            default -> throw pos.error("no filter named '" + name + "'");
        };
    }

    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof JStr s ? JStr.template(s.text().toLowerCase()) : v;
    }

    /** Attribute path {@code "a.b"} or integer index, as Jinja's {@code make_attrgetter}. */
    private static Object attribute(Interpreter in, Object item, Object attribute, Pos pos) {
        if (attribute instanceof Long) {
            return in.getItem(item, attribute, pos);
        }
        Object cur = item;
        for (String part : str(attribute).text().split("\\.")) {
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty()
                    ? (Object) Long.parseLong(part) : JStr.template(part);
            cur = in.getItem(cur, key, pos);
            if (cur instanceof Undefined) {
                return cur;
            }
        }
        return cur;
    }

    /** For select/selectattr: the test named at {@code args[i]} (with its arguments), or truthiness. */
    private static boolean testFor(Interpreter in, Object value, List<Object> args, int i, Pos pos) {
        if (args.size() <= i) {
            return Values.truthy(value);
        }
        String test = str(args.get(i)).text();
        return in.applyTest(test, value, args.subList(i + 1, args.size()), pos);
    }

    private static JStr tojson(Object v, List<Object> args, Map<String, Object> kwargs, Pos pos) {
        Object indentArg = arg(args, kwargs, 0, "indent", null);
        String indent = switch (indentArg) {
            case null -> null;
            case Long n -> " ".repeat((int) Math.max(0, Math.min(n, 64)));
            case JStr s -> s.text();
            default -> throw pos.error("tojson: indent must be an integer or string");
        };
        String[] separators = null;
        Object sepArg = kwargs.get("separators");
        if (sepArg != null) {
            if (!(sepArg instanceof List<?> l) || l.size() != 2) {
                throw pos.error("tojson: separators must be a pair of strings");
            }
            separators = new String[] {str(l.get(0)).text(), str(l.get(1)).text()};
        }
        boolean sortKeys = Values.truthy(kwargs.get("sort_keys"));
        boolean ensureAscii = Values.truthy(kwargs.get("ensure_ascii"));
        if (v instanceof Undefined u) {
            throw pos.error("tojson: " + u.reason());
        }
        String json = PyJson.dumps(v, indent, separators, sortKeys, ensureAscii);
        // JSON built from input data is input as a whole: its escapes no longer map char-for-char to the source.
        return JStr.of(json, Values.containsInput(v));
    }

    private static JStr escape(JStr s) {
        String t = s.text().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&#34;").replace("'", "&#39;");
        return s.derive(t);
    }

    private static Object toInt(Object v, Object dflt, Object base) {
        return switch (v) {
            case Long l -> l;
            case Boolean b -> b ? 1L : 0L;
            case Double d -> Double.isFinite(d) ? (Object) (long) (double) d : dflt;
            case JStr s -> {
                String t = s.text().strip().replace("_", "");
                int radix = (int) Values.asLong(base);
                String lower = t.toLowerCase();
                boolean negative = lower.startsWith("-");
                String digits = negative || lower.startsWith("+") ? lower.substring(1) : lower;
                for (var prefix : List.of(java.util.Map.entry("0x", 16), java.util.Map.entry("0o", 8),
                        java.util.Map.entry("0b", 2))) {
                    if (digits.startsWith(prefix.getKey()) && (radix == 0 || radix == prefix.getValue())) {
                        radix = prefix.getValue();
                        digits = digits.substring(2);
                        t = (negative ? "-" : "") + digits;
                    }
                }
                if (radix == 0) {
                    radix = 10;
                }
                try {
                    yield Long.parseLong(t, radix);
                } catch (NumberFormatException e) {
                    try {
                        yield (long) Double.parseDouble(t);
                    } catch (NumberFormatException e2) {
                        yield dflt;
                    }
                }
            }
            case null, default -> dflt;
        };
    }

    private static Object toFloat(Object v, Object dflt) {
        return switch (v) {
            case Long l -> (double) l;
            case Double d -> d;
            case Boolean b -> b ? 1.0 : 0.0;
            case JStr s -> {
                try {
                    yield Double.parseDouble(s.text().strip());
                } catch (NumberFormatException e) {
                    yield dflt;
                }
            }
            case null, default -> dflt;
        };
    }

    private static JStr indent(JStr s, Object width, boolean first, boolean blank) {
        JStr pad = width instanceof JStr w ? w : JStr.template(" ".repeat((int) Values.asLong(width)));
        List<Object> lines = new ArrayList<>();
        String t = s.text();
        int from = 0;
        for (int i = t.indexOf('\n'); i >= 0; i = t.indexOf('\n', from)) {
            lines.add(s.substring(from, i));
            from = i + 1;
        }
        lines.add(s.substring(from));
        JStr.Builder b = new JStr.Builder();
        for (int i = 0; i < lines.size(); i++) {
            JStr line = (JStr) lines.get(i);
            if (i > 0) {
                b.append("\n", false);
            }
            boolean indentThis = (i > 0 || first) && (blank || !line.text().isBlank());
            if (indentThis) {
                b.append(pad);
            }
            b.append(line);
        }
        return b.build();
    }

    private static Object round(Object v, long precision, String method, Pos pos) {
        if (!Values.isNumber(v)) {
            throw pos.error("round needs a number, got " + Values.typeName(v));
        }
        double d = Values.toDouble(v);
        if (!Double.isFinite(d)) {
            return d;
        }
        if (v instanceof Long && method.equals("common")) {
            return v; // Python round(int, n) stays an int
        }
        RoundingMode mode = switch (method) {
            // Python round(): half-even on the exact binary value (2.5 -> 2.0, 2.675 -> 2.67)
            case "common" -> RoundingMode.HALF_EVEN;
            case "ceil" -> RoundingMode.CEILING;
            case "floor" -> RoundingMode.FLOOR;
            default -> throw pos.error("round: method must be 'common', 'ceil' or 'floor'");
        };
        // Jinja rounds the float value itself (Python round() on the binary value for 'common').
        return new BigDecimal(d).setScale((int) precision, mode).doubleValue();
    }

    /** Python {@code %}-formatting for the {@code format} filter: %s %r %d %i %f %% (with width/precision). */
    static JStr format(JStr fmt, List<Object> args, Pos pos) {
        JStr.Builder b = new JStr.Builder();
        String t = fmt.text();
        int argIndex = 0;
        int i = 0;
        while (i < t.length()) {
            char c = t.charAt(i);
            if (c != '%') {
                b.append(fmt.substring(i, i + 1));
                i++;
                continue;
            }
            int j = i + 1;
            while (j < t.length() && "0123456789.-+ ".indexOf(t.charAt(j)) >= 0) {
                j++;
            }
            if (j >= t.length()) {
                throw pos.error("format: incomplete format");
            }
            char conv = t.charAt(j);
            String spec = t.substring(i + 1, j);
            if (conv == '%') {
                b.append("%", false);
            } else {
                if (argIndex >= args.size()) {
                    throw pos.error("format: not enough arguments for format string");
                }
                Object a = args.get(argIndex++);
                switch (conv) {
                    case 's' -> b.append(pad(Values.str(a), spec));
                    case 'r' -> b.append(JStr.of(Values.repr(a, true), Values.containsInput(a)));
                    case 'd', 'i' -> b.append(String.format("%" + spec + "d", (long) Values.toDouble(a)), false);
                    case 'f', 'e', 'g' -> b.append(String.format("%" + (spec.isEmpty() ? ".6" : spec) + conv,
                            Values.toDouble(a)), false);
                    default -> throw pos.error("format: unsupported format character '" + conv + "'");
                }
            }
            i = j + 1;
        }
        return b.build();
    }

    private static JStr pad(JStr s, String spec) {
        if (spec.isEmpty()) {
            return s;
        }
        boolean left = spec.startsWith("-");
        String digits = spec.replaceAll("[^0-9.]", "");
        int dot = digits.indexOf('.');
        int width = dot == 0 || digits.isEmpty() ? 0 : Integer.parseInt(dot < 0 ? digits : digits.substring(0, dot));
        if (dot >= 0 && dot + 1 < digits.length()) {
            int prec = Integer.parseInt(digits.substring(dot + 1));
            s = s.substring(0, Math.min(prec, s.length()));
        }
        JStr fill = JStr.template(" ".repeat(Math.max(0, width - s.length())));
        return left ? s.concat(fill) : fill.concat(s);
    }
}
