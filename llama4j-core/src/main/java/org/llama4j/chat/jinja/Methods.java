package org.llama4j.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Python methods templates call on values ({@code s.strip()}, {@code d.items()}, {@code l.append(x)}...).
 * Only these whitelisted methods exist; nothing reaches Java reflection.
 */
final class Methods {
    private Methods() {
    }

    /** The bound method, or {@code null} when the value has no such method. */
    static JinjaCallable method(Interpreter in, Object self, String name) {
        return switch (self) {
            case JStr s -> stringMethod(s, name);
            case Map<?, ?> m -> dictMethod(m, name);
            case PyTuple t -> listMethod(in, t, name, false);
            case List<?> l -> listMethod(in, l, name, true);
            case null, default -> null;
        };
    }

    static boolean isPySpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    static JStr strip(JStr s, JStr chars, boolean left, boolean right) {
        String t = s.text();
        int start = 0;
        int end = t.length();
        while (left && start < end && stripped(t.charAt(start), chars)) {
            start++;
        }
        while (right && end > start && stripped(t.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean stripped(char c, JStr chars) {
        return chars == null ? isPySpace(c) : chars.text().indexOf(c) >= 0;
    }

    private static JStr optStr(List<Object> args, int i) {
        if (args.size() <= i || args.get(i) == null) {
            return null;
        }
        if (args.get(i) instanceof JStr s) {
            return s;
        }
        throw new IllegalArgumentException("expected a string argument, got " + Values.typeName(args.get(i)));
    }

    private static JStr reqStr(List<Object> args, int i, String method) {
        JStr s = optStr(args, i);
        if (s == null) {
            throw new IllegalArgumentException(method + "() missing a string argument");
        }
        return s;
    }

    private static boolean matchesAffix(JStr s, Object affix, boolean prefix) {
        if (affix instanceof JStr a) {
            return prefix ? s.text().startsWith(a.text()) : s.text().endsWith(a.text());
        }
        if (affix instanceof List<?> options) {
            return options.stream().anyMatch(o -> matchesAffix(s, o, prefix));
        }
        throw new IllegalArgumentException((prefix ? "startswith" : "endswith")
                + " first arg must be str or a tuple of str, not " + Values.typeName(affix));
    }

    static JStr replace(JStr s, JStr old, JStr replacement, long count) {
        String t = s.text();
        JStr.Builder b = new JStr.Builder();
        int from = 0;
        long done = 0;
        if (old.isEmpty()) {
            // Python inserts the replacement between every character (and at both ends).
            List<Object> chars = Values.iterate(s);
            for (Object c : chars) {
                if (count < 0 || done < count) {
                    b.append(replacement);
                    done++;
                }
                b.append((JStr) c);
            }
            if (count < 0 || done < count) {
                b.append(replacement);
            }
            return b.build();
        }
        while (count < 0 || done < count) {
            int at = t.indexOf(old.text(), from);
            if (at < 0) {
                break;
            }
            b.append(s.substring(from, at)).append(replacement);
            from = at + old.length();
            done++;
        }
        return b.append(s.substring(from)).build();
    }

    static List<Object> split(JStr s, JStr sep, long maxSplit) {
        List<Object> out = new ArrayList<>();
        String t = s.text();
        if (sep == null) {
            int i = 0;
            int n = t.length();
            while (true) {
                while (i < n && isPySpace(t.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    break;
                }
                if (maxSplit >= 0 && out.size() >= maxSplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !isPySpace(t.charAt(j))) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        int from = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int at = t.indexOf(sep.text(), from);
            if (at < 0) {
                break;
            }
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static JStr capitalize(JStr s) {
        String t = s.text();
        if (t.isEmpty()) {
            return s;
        }
        int first = t.offsetByCodePoints(0, 1);
        return s.derive(t.substring(0, first).toUpperCase() + t.substring(first).toLowerCase());
    }

    static JStr title(JStr s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        String t = s.text();
        for (int i = 0; i < t.length(); ) {
            int cp = t.codePointAt(i);
            String c = new String(Character.toChars(cp));
            sb.append(prevCased ? c.toLowerCase() : c.toUpperCase());
            prevCased = Character.isLetter(cp);
            i += Character.charCount(cp);
        }
        return s.derive(sb.toString());
    }

    private static long intArg(List<Object> args, int i, long dflt) {
        if (args.size() <= i || args.get(i) == null) {
            return dflt;
        }
        Object v = args.get(i);
        if (v instanceof Long || v instanceof Boolean) {
            return Values.asLong(v);
        }
        throw new IllegalArgumentException("expected an integer argument, got " + Values.typeName(v));
    }

    private static JinjaCallable stringMethod(JStr s, String name) {
        return switch (name) {
            case "strip" -> (a, k) -> strip(s, optStr(a, 0), true, true);
            case "lstrip" -> (a, k) -> strip(s, optStr(a, 0), true, false);
            case "rstrip" -> (a, k) -> strip(s, optStr(a, 0), false, true);
            case "upper" -> (a, k) -> s.derive(s.text().toUpperCase());
            case "lower" -> (a, k) -> s.derive(s.text().toLowerCase());
            case "capitalize" -> (a, k) -> capitalize(s);
            case "title" -> (a, k) -> title(s);
            case "startswith" -> (a, k) -> {
                if (a.isEmpty()) {
                    throw new IllegalArgumentException("startswith() takes at least 1 argument");
                }
                return matchesAffix(s, a.getFirst(), true);
            };
            case "endswith" -> (a, k) -> {
                if (a.isEmpty()) {
                    throw new IllegalArgumentException("endswith() takes at least 1 argument");
                }
                return matchesAffix(s, a.getFirst(), false);
            };
            case "split" -> (a, k) -> split(s, optStr(a, 0) != null ? optStr(a, 0) : (JStr) k.get("sep"),
                    k.containsKey("maxsplit") ? Values.asLong(k.get("maxsplit")) : intArg(a, 1, -1));
            case "splitlines" -> (a, k) -> {
                List<Object> out = new ArrayList<>();
                String t = s.text();
                int from = 0;
                for (int i = 0; i < t.length(); i++) {
                    char c = t.charAt(i);
                    if (c == '\n' || c == '\r') {
                        out.add(s.substring(from, i));
                        if (c == '\r' && i + 1 < t.length() && t.charAt(i + 1) == '\n') {
                            i++;
                        }
                        from = i + 1;
                    }
                }
                if (from < t.length()) {
                    out.add(s.substring(from));
                }
                return out;
            };
            case "replace" -> (a, k) -> replace(s, reqStr(a, 0, "replace"), reqStr(a, 1, "replace"), intArg(a, 2, -1));
            case "find" -> (a, k) -> (long) s.text().indexOf(reqStr(a, 0, "find").text());
            case "rfind" -> (a, k) -> (long) s.text().lastIndexOf(reqStr(a, 0, "rfind").text());
            case "count" -> (a, k) -> {
                String sub = reqStr(a, 0, "count").text();
                if (sub.isEmpty()) {
                    return (long) Values.length(s) + 1;
                }
                long n = 0;
                for (int i = s.text().indexOf(sub); i >= 0; i = s.text().indexOf(sub, i + sub.length())) {
                    n++;
                }
                return n;
            };
            case "join" -> (a, k) -> {
                JStr.Builder b = new JStr.Builder();
                boolean first = true;
                for (Object item : Values.iterate(a.isEmpty() ? null : a.getFirst())) {
                    if (!first) {
                        b.append(s);
                    }
                    first = false;
                    if (!(item instanceof JStr str)) {
                        throw new IllegalArgumentException("sequence item: expected str instance, "
                                + Values.typeName(item) + " found");
                    }
                    b.append(str);
                }
                return b.build();
            };
            case "removeprefix" -> (a, k) -> {
                JStr p = reqStr(a, 0, "removeprefix");
                return s.text().startsWith(p.text()) ? s.substring(p.length()) : s;
            };
            case "removesuffix" -> (a, k) -> {
                JStr p = reqStr(a, 0, "removesuffix");
                return s.text().endsWith(p.text()) && !p.isEmpty() ? s.substring(0, s.length() - p.length()) : s;
            };
            case "isdigit" -> (a, k) -> !s.isEmpty() && s.text().chars().allMatch(Character::isDigit);
            case "isalpha" -> (a, k) -> !s.isEmpty() && s.text().chars().allMatch(Character::isLetter);
            case "isalnum" -> (a, k) -> !s.isEmpty() && s.text().chars().allMatch(Character::isLetterOrDigit);
            case "isspace" -> (a, k) -> !s.isEmpty() && s.text().chars().allMatch(Methods::isPySpace);
            case "islower" -> (a, k) -> s.text().chars().anyMatch(Character::isLowerCase)
                    && s.text().equals(s.text().toLowerCase());
            case "isupper" -> (a, k) -> s.text().chars().anyMatch(Character::isUpperCase)
                    && s.text().equals(s.text().toUpperCase());
            default -> null;
        };
    }

    @SuppressWarnings("unchecked")
    private static JinjaCallable dictMethod(Map<?, ?> m, String name) {
        return switch (name) {
            case "items" -> (a, k) -> {
                List<Object> out = new ArrayList<>();
                m.forEach((key, v) -> out.add(new PyTuple(java.util.Arrays.asList(key, v))));
                return out;
            };
            case "keys" -> (a, k) -> new ArrayList<Object>(m.keySet());
            case "values" -> (a, k) -> new ArrayList<Object>(m.values());
            case "get" -> (a, k) -> {
                if (a.isEmpty()) {
                    throw new IllegalArgumentException("get() takes at least 1 argument");
                }
                Object key = a.getFirst();
                return Values.containsKey(m, key) ? m.entrySet().stream().filter(e -> Values.eq(e.getKey(), key))
                        .findFirst().orElseThrow().getValue() : a.size() > 1 ? a.get(1) : null;
            };
            case "copy" -> (a, k) -> new java.util.LinkedHashMap<>(m);
            case "update" -> (a, k) -> {
                Map<Object, Object> target = (Map<Object, Object>) m;
                if (!a.isEmpty()) {
                    if (!(a.getFirst() instanceof Map<?, ?> other)) {
                        throw new IllegalArgumentException("update() needs a dict");
                    }
                    target.putAll(other);
                }
                k.forEach((key, v) -> target.put(JStr.template(key), v));
                return null;
            };
            default -> null;
        };
    }

    @SuppressWarnings("unchecked")
    private static JinjaCallable listMethod(Interpreter in, List<?> l, String name, boolean mutable) {
        List<Object> list = (List<Object>) l;
        return switch (name) {
            case "index" -> (a, k) -> {
                for (int i = 0; i < l.size(); i++) {
                    if (Values.eq(l.get(i), a.getFirst())) {
                        return (long) i;
                    }
                }
                throw new IllegalArgumentException(Values.repr(a.getFirst(), true) + " is not in list");
            };
            case "count" -> (a, k) -> l.stream().filter(x -> Values.eq(x, a.getFirst())).count();
            case "append" -> !mutable ? null : (a, k) -> {
                if (a.size() != 1) {
                    throw new IllegalArgumentException("append() takes exactly one argument");
                }
                if (list.size() >= in.limits.maxSequenceSize()) {
                    throw new TemplateLimitException("list grows beyond " + in.limits.maxSequenceSize() + " items", 0, 0);
                }
                list.add(a.getFirst());
                return null;
            };
            case "extend" -> !mutable ? null : (a, k) -> {
                List<Object> more = Values.iterate(a.isEmpty() ? null : a.getFirst());
                if ((long) list.size() + more.size() > in.limits.maxSequenceSize()) {
                    throw new TemplateLimitException("list grows beyond " + in.limits.maxSequenceSize() + " items", 0, 0);
                }
                list.addAll(more);
                return null;
            };
            case "insert" -> !mutable ? null : (a, k) -> {
                long i = intArg(a, 0, 0);
                int at = (int) Math.max(0, Math.min(list.size(), i < 0 ? i + list.size() : i));
                list.add(at, a.get(1));
                return null;
            };
            case "pop" -> !mutable ? null : (a, k) -> {
                if (list.isEmpty()) {
                    throw new IllegalArgumentException("pop from empty list");
                }
                long i = intArg(a, 0, -1);
                if (i < 0) {
                    i += list.size();
                }
                if (i < 0 || i >= list.size()) {
                    throw new IllegalArgumentException("pop index out of range");
                }
                return list.remove((int) i);
            };
            default -> null;
        };
    }
}
