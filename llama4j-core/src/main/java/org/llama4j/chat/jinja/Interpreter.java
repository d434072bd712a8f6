package org.llama4j.chat.jinja;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llama4j.chat.jinja.Ast.*;

/** Tree-walking evaluator for one render. Not thread safe; a fresh one is made per render. */
final class Interpreter {
    enum Flow { NORMAL, BREAK, CONTINUE }

    /** A variable scope: for-loop bodies, macros and {@code with} blocks get their own, {@code if} does not. */
    static final class Scope {
        final Scope parent;
        final Map<String, Object> vars = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }

        boolean has(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.containsKey(name)) {
                    return true;
                }
            }
            return false;
        }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                Object v = s.vars.get(name);
                if (v != null || s.vars.containsKey(name)) {
                    return v;
                }
            }
            return Undefined.named(name);
        }
    }

    /** Output buffer that enforces the size limit. */
    final class Out {
        final JStr.Builder builder = new JStr.Builder();

        void append(JStr s, Pos pos) {
            if ((long) builder.length() + s.length() > limits.maxOutputChars()) {
                throw new TemplateLimitException("output exceeds " + limits.maxOutputChars() + " characters",
                        pos.line(), pos.column());
            }
            builder.append(s);
        }
    }

    final TemplateLimits limits;
    private long steps;
    private int callDepth;
    private int loopDepth;

    Interpreter(TemplateLimits limits) {
        this.limits = limits;
    }

    JStr render(List<Node> body, Scope scope) {
        Out out = new Out();
        Flow flow = exec(body, scope, out);
        if (flow != Flow.NORMAL) {
            throw new TemplateSyntaxException("'break' or 'continue' outside a loop", 0, 0);
        }
        return out.builder.build();
    }

    private void step(Pos pos) {
        if (++steps > limits.maxSteps()) {
            throw new TemplateLimitException("template exceeded " + limits.maxSteps() + " evaluation steps",
                    pos.line(), pos.column());
        }
    }

    // ---------------------------------------------------------------- statements

    Flow exec(List<Node> nodes, Scope scope, Out out) {
        for (Node n : nodes) {
            Flow f = exec(n, scope, out);
            if (f != Flow.NORMAL) {
                return f;
            }
        }
        return Flow.NORMAL;
    }

    private Flow exec(Node node, Scope scope, Out out) {
        step(node.pos());
        switch (node) {
            case Text t -> out.append(t.text(), t.pos());
            case Output o -> out.append(Values.str(eval(o.expr(), scope)), o.pos());
            case If i -> {
                for (Branch b : i.branches()) {
                    if (Values.truthy(eval(b.condition(), scope))) {
                        return exec(b.body(), scope, out);
                    }
                }
                return exec(i.elseBody(), scope, out);
            }
            case For f -> {
                return execFor(f, scope, out);
            }
            case Ast.Set s -> assign(s.target(), eval(s.value(), scope), scope, s.pos());
            case SetBlock s -> {
                Out body = new Out();
                if (exec(s.body(), scope, body) != Flow.NORMAL) {
                    throw s.pos().syntax("'break'/'continue' inside a set block");
                }
                Object value = body.builder.build();
                for (FilterCall fc : s.filters()) {
                    value = applyFilter(fc, value, scope);
                }
                assign(s.target(), value, scope, s.pos());
            }
            case Macro m -> scope.vars.put(m.name(), new MacroCallable(m.name(), m.params(), m.body(), scope));
            case CallBlock c -> {
                MacroCallable caller = new MacroCallable("caller", c.callerParams(), c.body(), scope);
                Object callee = eval(c.call().callee(), scope);
                List<Object> args = evalAll(c.call().args(), scope);
                Map<String, Object> kwargs = evalKwargs(c.call().kwargNames(), c.call().kwargValues(), scope);
                kwargs.put("caller", caller);
                out.append(Values.str(invoke(callee, args, kwargs, c.pos())), c.pos());
            }
            case FilterBlock fb -> {
                Out body = new Out();
                Flow flow = exec(fb.body(), scope, body);
                Object value = body.builder.build();
                for (FilterCall fc : fb.filters()) {
                    value = applyFilter(fc, value, scope);
                }
                out.append(Values.str(value), fb.pos());
                return flow;
            }
            case With w -> {
                Scope inner = new Scope(scope);
                for (Ast.Set s : w.assignments()) {
                    assign(s.target(), eval(s.value(), scope), inner, s.pos());
                }
                return exec(w.body(), inner, out);
            }
            case Do d -> eval(d.expr(), scope);
            case Block b -> {
                return exec(b.body(), scope, out);
            }
            case Break b -> {
                if (loopDepth == 0) {
                    throw b.pos().syntax("'break' outside a loop");
                }
                return Flow.BREAK;
            }
            case Continue c -> {
                if (loopDepth == 0) {
                    throw c.pos().syntax("'continue' outside a loop");
                }
                return Flow.CONTINUE;
            }
        }
        return Flow.NORMAL;
    }

    private Flow execFor(For f, Scope scope, Out out) {
        Object iterable = eval(f.iterable(), scope);
        List<Object> items;
        try {
            items = Values.iterate(iterable);
        } catch (IllegalArgumentException e) {
            throw f.iterable().pos().error(e.getMessage());
        }
        if (f.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Scope probe = new Scope(scope);
                assign(f.target(), item, probe, f.pos());
                if (Values.truthy(eval(f.filter(), probe))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        if (items.isEmpty()) {
            return exec(f.elseBody(), scope, out);
        }
        Object outer = scope.lookup("loop");
        LoopInfo loop = new LoopInfo(items, outer instanceof LoopInfo o ? o.depth + 1 : 1);
        loopDepth++;
        try {
            for (int i = 0; i < items.size(); i++) {
                step(f.pos());
                loop.index0 = i;
                Scope body = new Scope(scope);
                body.vars.put("loop", loop);
                assign(f.target(), items.get(i), body, f.pos());
                if (exec(f.body(), body, out) == Flow.BREAK) {
                    break;
                }
            }
        } finally {
            loopDepth--;
        }
        return Flow.NORMAL;
    }

    private void assign(Target target, Object value, Scope scope, Pos pos) {
        switch (target) {
            case NameTarget n -> scope.vars.put(n.name(), value);
            case AttrTarget a -> {
                Object obj = eval(a.object(), scope);
                if (!(obj instanceof Namespace ns)) {
                    throw a.pos().error("cannot assign attribute '" + a.attribute() + "' on a "
                            + Values.typeName(obj) + " (only namespace() objects take attribute assignments)");
                }
                ns.attributes.put(a.attribute(), value);
            }
            case TupleTarget t -> {
                List<Object> items;
                try {
                    items = Values.iterate(value);
                } catch (IllegalArgumentException e) {
                    throw t.pos().error("cannot unpack: " + e.getMessage());
                }
                if (items.size() != t.items().size()) {
                    throw t.pos().error("cannot unpack " + items.size() + " values into " + t.items().size()
                            + " names");
                }
                for (int i = 0; i < items.size(); i++) {
                    assign(t.items().get(i), items.get(i), scope, pos);
                }
            }
        }
    }

    /** A {@code {% macro %}} (or the body of a {@code {% call %}} block as {@code caller}). */
    final class MacroCallable implements JinjaCallable {
        private final String name;
        private final List<Param> params;
        private final List<Node> body;
        private final Scope closure;

        MacroCallable(String name, List<Param> params, List<Node> body, Scope closure) {
            this.name = name;
            this.params = params;
            this.body = body;
            this.closure = closure;
        }

        @Override
        public Object call(List<Object> args, Map<String, Object> kwargs) {
            if (++callDepth > limits.maxCallDepth()) {
                callDepth--;
                throw new TemplateLimitException("macro calls nested deeper than " + limits.maxCallDepth()
                        + " (runaway recursion in '" + name + "'?)", 0, 0);
            }
            int savedLoopDepth = loopDepth;
            loopDepth = 0; // break/continue do not cross a macro boundary
            try {
                Scope scope = new Scope(closure);
                Map<String, Object> rest = new LinkedHashMap<>(kwargs);
                for (int i = 0; i < params.size(); i++) {
                    Param p = params.get(i);
                    Object value;
                    if (i < args.size()) {
                        value = args.get(i);
                        if (rest.containsKey(p.name())) {
                            throw new TemplateRuntimeException("macro '" + name + "' got multiple values for argument '"
                                    + p.name() + "'", 0, 0);
                        }
                    } else if (rest.containsKey(p.name())) {
                        value = rest.remove(p.name());
                    } else if (p.defaultValue() != null) {
                        value = eval(p.defaultValue(), scope);
                    } else {
                        value = new Undefined("parameter '" + p.name() + "' of macro '" + name + "' was not given");
                    }
                    scope.vars.put(p.name(), value);
                }
                Object caller = rest.remove("caller");
                if (caller != null) {
                    scope.vars.put("caller", caller);
                }
                scope.vars.put("varargs", new PyTuple(args.size() > params.size()
                        ? args.subList(params.size(), args.size()) : List.of()));
                Map<Object, Object> extra = new LinkedHashMap<>();
                rest.forEach((k, v) -> extra.put(JStr.template(k), v));
                scope.vars.put("kwargs", extra);
                Out out = new Out();
                exec(body, scope, out);
                return out.builder.build();
            } finally {
                callDepth--;
                loopDepth = savedLoopDepth;
            }
        }
    }

    // ---------------------------------------------------------------- expressions

    List<Object> evalAll(List<Expr> exprs, Scope scope) {
        List<Object> out = new ArrayList<>(exprs.size());
        for (Expr e : exprs) {
            out.add(eval(e, scope));
        }
        return out;
    }

    Map<String, Object> evalKwargs(List<String> names, List<Expr> values, Scope scope) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            out.put(names.get(i), eval(values.get(i), scope));
        }
        return out;
    }

    Object eval(Expr expr, Scope scope) {
        step(expr.pos());
        return switch (expr) {
            case Literal l -> l.value();
            case Name n -> scope.lookup(n.name());
            case ListExpr l -> evalAll(l.items(), scope);
            case TupleExpr t -> new PyTuple(evalAll(t.items(), scope));
            case DictExpr d -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    Object k = eval(d.keys().get(i), scope);
                    if (k instanceof List<?> && !(k instanceof PyTuple) || k instanceof Map<?, ?>) {
                        throw d.keys().get(i).pos().error("unhashable type: '" + Values.typeName(k) + "'");
                    }
                    map.put(k, eval(d.values().get(i), scope));
                }
                yield map;
            }
            case GetAttr g -> getAttr(eval(g.object(), scope), g.attribute(), g.pos());
            case GetItem g -> getItem(eval(g.object(), scope), eval(g.key(), scope), g.pos());
            case Slice s -> slice(eval(s.object(), scope), evalOpt(s.start(), scope), evalOpt(s.stop(), scope),
                    evalOpt(s.step(), scope), s.pos());
            case Call c -> invoke(eval(c.callee(), scope), evalAll(c.args(), scope),
                    evalKwargs(c.kwargNames(), c.kwargValues(), scope), c.pos());
            case Filter f -> applyFilter(f.filter(), eval(f.object(), scope), scope);
            case Test t -> {
                Object value = eval(t.object(), scope);
                boolean r = applyTest(t.name(), value, evalAll(t.args(), scope), t.pos());
                yield r != t.negated();
            }
            case Unary u -> switch (u.op()) {
                case NOT -> !Values.truthy(eval(u.operand(), scope));
                case NEG, POS -> {
                    Object v = eval(u.operand(), scope);
                    failIfUndefined(v, u.pos());
                    if (v instanceof Long l) {
                        yield u.op() == UnaryOp.NEG ? -l : l;
                    }
                    if (v instanceof Double d) {
                        yield u.op() == UnaryOp.NEG ? -d : d;
                    }
                    if (v instanceof Boolean b) {
                        yield (long) (u.op() == UnaryOp.NEG ? (b ? -1 : 0) : (b ? 1 : 0));
                    }
                    throw u.pos().error("bad operand type for unary " + (u.op() == UnaryOp.NEG ? "-" : "+") + ": '"
                            + Values.typeName(v) + "'");
                }
            };
            case Binary b -> Operators.binary(this, b.op(), eval(b.left(), scope), eval(b.right(), scope), b.pos());
            case And a -> {
                Object l = eval(a.left(), scope);
                yield Values.truthy(l) ? eval(a.right(), scope) : l;
            }
            case Or o -> {
                Object l = eval(o.left(), scope);
                yield Values.truthy(l) ? l : eval(o.right(), scope);
            }
            case Compare c -> {
                Object left = eval(c.first(), scope);
                for (int i = 0; i < c.ops().size(); i++) {
                    Object right = eval(c.rest().get(i), scope);
                    if (!Operators.compare(c.ops().get(i), left, right, c.pos())) {
                        yield false;
                    }
                    left = right;
                }
                yield true;
            }
            case Conditional c -> Values.truthy(eval(c.condition(), scope)) ? eval(c.then(), scope)
                    : c.otherwise() == null ? new Undefined("the inline if-expression evaluated to false and has no else")
                    : eval(c.otherwise(), scope);
        };
    }

    private Object evalOpt(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    static void failIfUndefined(Object v, Pos pos) {
        if (v instanceof Undefined u) {
            throw pos.error(u.reason());
        }
    }

    Object invoke(Object callee, List<Object> args, Map<String, Object> kwargs, Pos pos) {
        if (callee instanceof Undefined u) {
            throw pos.error(u.reason());
        }
        if (!(callee instanceof JinjaCallable f)) {
            throw pos.error("'" + Values.typeName(callee) + "' object is not callable");
        }
        try {
            return f.call(args, kwargs);
        } catch (TemplateRaisedException e) {
            throw e.line() == 0 ? new TemplateRaisedException(e.getMessage(), pos.line(), pos.column()) : e;
        } catch (TemplateRuntimeException e) {
            throw e.line() == 0 ? pos.error(e.detail()) : e;
        } catch (TemplateLimitException e) {
            throw e.line() == 0 ? new TemplateLimitException(e.detail(), pos.line(), pos.column()) : e;
        } catch (IllegalArgumentException | IndexOutOfBoundsException | ArithmeticException e) {
            throw pos.error(e.getMessage());
        }
    }

    Object getAttr(Object obj, String name, Pos pos) {
        if (obj == null) {
            return new Undefined("'None' has no attribute '" + name + "'");
        }
        switch (obj) {
            case Undefined u -> throw pos.error(u.reason());
            case Namespace ns -> {
                return ns.attributes.containsKey(name) ? ns.attributes.get(name)
                        : new Undefined("'Namespace' object has no attribute '" + name + "'");
            }
            case LoopInfo loop -> {
                Object v = loop.attribute(name);
                return v != null ? v : new Undefined("'loop' has no attribute '" + name + "'");
            }
            case Map<?, ?> m -> {
                JinjaCallable method = Methods.method(this, m, name);
                if (method != null) {
                    return method;
                }
                JStr key = JStr.template(name);
                return m.containsKey(key) ? m.get(key) : new Undefined("'dict object' has no attribute '" + name + "'");
            }
            default -> {
                JinjaCallable method = Methods.method(this, obj, name);
                return method != null ? method
                        : new Undefined("'" + Values.typeName(obj) + " object' has no attribute '" + name + "'");
            }
        }
    }

    Object getItem(Object obj, Object key, Pos pos) {
        if (obj == null) {
            return new Undefined("'None' has no item " + Values.repr(key, true));
        }
        switch (obj) {
            case Undefined u -> throw pos.error(u.reason());
            case Map<?, ?> m -> {
                if (m.containsKey(key)) {
                    return m.get(key);
                }
                if (key instanceof Long || key instanceof Double || key instanceof Boolean) {
                    for (Map.Entry<?, ?> e : m.entrySet()) {
                        if (Values.eq(e.getKey(), key)) {
                            return e.getValue();
                        }
                    }
                }
                if (key instanceof JStr s) {
                    JinjaCallable method = Methods.method(this, m, s.text());
                    if (method != null) {
                        return method;
                    }
                }
                return new Undefined("'dict object' has no attribute " + Values.repr(key, true));
            }
            case List<?> l when key instanceof Long || key instanceof Boolean -> {
                long i = Values.asLong(key);
                if (i < 0) {
                    i += l.size();
                }
                return i >= 0 && i < l.size() ? l.get((int) i)
                        : new Undefined(Values.typeName(obj) + " index out of range");
            }
            case JStr s when key instanceof Long || key instanceof Boolean -> {
                List<Object> chars = Values.iterate(s);
                long i = Values.asLong(key);
                if (i < 0) {
                    i += chars.size();
                }
                return i >= 0 && i < chars.size() ? chars.get((int) i) : new Undefined("string index out of range");
            }
            case Namespace ns when key instanceof JStr s -> {
                return getAttr(ns, s.text(), pos);
            }
            default -> {
                if (key instanceof JStr s) {
                    return getAttr(obj, s.text(), pos);
                }
                return new Undefined("'" + Values.typeName(obj) + " object' has no item " + Values.repr(key, true));
            }
        }
    }

    private Object slice(Object obj, Object start, Object stop, Object step, Pos pos) {
        failIfUndefined(obj, pos);
        List<Object> items;
        if (obj instanceof JStr || obj instanceof List<?>) {
            items = Values.iterate(obj);
        } else {
            throw pos.error("'" + Values.typeName(obj) + "' object is not subscriptable");
        }
        int n = items.size();
        long st = step == null ? 1 : sliceIndex(step, pos);
        if (st == 0) {
            throw pos.error("slice step cannot be zero");
        }
        long lo;
        long hi;
        if (st > 0) {
            lo = start == null ? 0 : clampSlice(sliceIndex(start, pos), n, 0, n);
            hi = stop == null ? n : clampSlice(sliceIndex(stop, pos), n, 0, n);
        } else {
            lo = start == null ? n - 1 : clampSlice(sliceIndex(start, pos), n, -1, n - 1);
            hi = stop == null ? -1 : clampSlice(sliceIndex(stop, pos), n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
            out.add(items.get((int) i));
        }
        if (obj instanceof JStr) {
            JStr.Builder b = new JStr.Builder();
            out.forEach(c -> b.append((JStr) c));
            return b.build();
        }
        return obj instanceof PyTuple ? new PyTuple(out) : out;
    }

    private static long sliceIndex(Object v, Pos pos) {
        if (v instanceof Long || v instanceof Boolean) {
            return Values.asLong(v);
        }
        throw pos.error("slice indices must be integers or None, not " + Values.typeName(v));
    }

    private static long clampSlice(long i, int n, long min, long max) {
        if (i < 0) {
            i += n;
        }
        return Math.max(min, Math.min(max, i));
    }

    Object applyFilter(FilterCall fc, Object value, Scope scope) {
        List<Object> args = evalAll(fc.args(), scope);
        Map<String, Object> kwargs = evalKwargs(fc.kwargNames(), fc.kwargValues(), scope);
        return callFilter(fc.name(), value, args, kwargs, fc.pos());
    }

    Object callFilter(String name, Object value, List<Object> args, Map<String, Object> kwargs, Pos pos) {
        step(pos);
        try {
            return Filters.apply(this, name, value, args, kwargs, pos);
        } catch (TemplateException e) {
            throw e;
        } catch (IllegalArgumentException | IndexOutOfBoundsException | ArithmeticException e) {
            throw pos.error("filter '" + name + "': " + e.getMessage());
        }
    }

    boolean applyTest(String name, Object value, List<Object> args, Pos pos) {
        step(pos);
        try {
            return Tests.apply(this, name, value, args, pos);
        } catch (TemplateException e) {
            throw e;
        } catch (IllegalArgumentException | IndexOutOfBoundsException | ArithmeticException e) {
            throw pos.error("test '" + name + "': " + e.getMessage());
        }
    }
}
