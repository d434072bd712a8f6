package org.llama4j.chat.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed Jinja template, interpreted here (no Jinja engine dependency) with the subset and semantics chat
 * templates rely on. Immutable and thread safe; every {@link #render} is independent.
 *
 * <p>Globals always present: {@code range}, {@code dict}, {@code namespace}, {@code raise_exception}. Callers
 * add others (such as {@code strftime_now}) as {@link JinjaCallable} variables.
 */
public final class Template {
    /** Lexer options; Hugging Face renders chat templates with both on. */
    public record Options(boolean trimBlocks, boolean lstripBlocks) {
        public static final Options HUGGING_FACE = new Options(true, true);
        public static final Options JINJA_DEFAULT = new Options(false, false);
    }

    private final List<Ast.Node> body;

    private Template(List<Ast.Node> body) {
        this.body = body;
    }

    /** Parses with Hugging Face options (trim_blocks, lstrip_blocks). */
    public static Template parse(String source) {
        return parse(source, Options.HUGGING_FACE);
    }

    /** @throws TemplateSyntaxException with line and column on invalid source */
    public static Template parse(String source, Options options) {
        Objects.requireNonNull(source, "source");
        return new Template(Parser.parse(source, options.trimBlocks(), options.lstripBlocks()));
    }

    /** Renders with template values (see {@link Values#fromJava}) under the default limits. */
    public JStr render(Map<String, Object> variables) {
        return render(variables, TemplateLimits.DEFAULT);
    }

    /**
     * @param variables template values: {@link JStr}, Long, Double, Boolean, null, List, Map, {@link JinjaCallable};
     *                  plain Java strings/ints/JsonNodes are converted (strings as template text)
     * @throws TemplateException subclasses with the position of the failing construct
     */
    public JStr render(Map<String, Object> variables, TemplateLimits limits) {
        Interpreter in = new Interpreter(limits);
        Interpreter.Scope globals = new Interpreter.Scope(null);
        installGlobals(globals.vars, limits);
        Interpreter.Scope scope = new Interpreter.Scope(globals);
        variables.forEach((k, v) -> scope.vars.put(k, Values.fromJava(v, false)));
        return in.render(body, new Interpreter.Scope(scope));
    }

    private static void installGlobals(Map<String, Object> g, TemplateLimits limits) {
        g.put("raise_exception", (JinjaCallable) (args, kwargs) -> {
            throw new TemplateRaisedException(args.isEmpty() ? "" : Values.str(args.getFirst()).text(), 0, 0);
        });
        g.put("range", (JinjaCallable) (args, kwargs) -> {
            long start = 0;
            long stop;
            long step = 1;
            for (Object a : args) {
                if (!(a instanceof Long) && !(a instanceof Boolean)) {
                    throw new IllegalArgumentException("range() arguments must be integers, got " + Values.typeName(a));
                }
            }
            switch (args.size()) {
                case 1 -> stop = Values.asLong(args.get(0));
                case 2, 3 -> {
                    start = Values.asLong(args.get(0));
                    stop = Values.asLong(args.get(1));
                    if (args.size() == 3) {
                        step = Values.asLong(args.get(2));
                    }
                }
                default -> throw new IllegalArgumentException("range expected 1 to 3 arguments, got " + args.size());
            }
            if (step == 0) {
                throw new IllegalArgumentException("range() arg 3 must not be zero");
            }
            long count = step > 0 ? Math.max(0, Math.ceilDiv(stop - start, step))
                    : Math.max(0, Math.ceilDiv(start - stop, -step));
            if (count > limits.maxSequenceSize()) {
                throw new TemplateLimitException("range() of " + count + " items exceeds the limit of "
                        + limits.maxSequenceSize(), 0, 0);
            }
            List<Object> out = new ArrayList<>((int) count);
            for (long i = 0; i < count; i++) {
                out.add(start + i * step);
            }
            return out;
        });
        g.put("dict", (JinjaCallable) (args, kwargs) -> {
            Map<Object, Object> out = new LinkedHashMap<>();
            if (!args.isEmpty()) {
                if (args.getFirst() instanceof Map<?, ?> m) {
                    out.putAll(m);
                } else {
                    for (Object pair : Values.iterate(args.getFirst())) {
                        List<Object> kv = Values.iterate(pair);
                        if (kv.size() != 2) {
                            throw new IllegalArgumentException("dict() sequence elements must be pairs");
                        }
                        out.put(kv.get(0), kv.get(1));
                    }
                }
            }
            kwargs.forEach((k, v) -> out.put(JStr.template(k), v));
            return out;
        });
        g.put("namespace", (JinjaCallable) (args, kwargs) -> {
            Namespace ns = new Namespace();
            for (Object a : args) {
                if (!(a instanceof Map<?, ?> m)) {
                    throw new IllegalArgumentException("namespace() positional arguments must be dicts");
                }
                m.forEach((k, v) -> ns.attributes.put(Values.str(k).text(), v));
            }
            ns.attributes.putAll(kwargs);
            return ns;
        });
    }
}
