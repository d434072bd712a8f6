package org.llama4j.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.llama4j.chat.jinja.Ast.*;
import org.llama4j.chat.jinja.Lexer.Token;
import org.llama4j.chat.jinja.Lexer.Type;

/** Recursive-descent parser with Jinja2's grammar and operator precedence. */
final class Parser {
    /** Deeper nesting than this is rejected rather than risking a stack overflow. */
    private static final int MAX_NESTING = 200;
    private static final Set<String> TEST_ARG_STOP = Set.of("else", "or", "and", "if", "in", "not", "is");

    private final List<Token> tokens;
    private int index;
    private int nesting;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(String source, boolean trimBlocks, boolean lstripBlocks) {
        Parser p = new Parser(Lexer.tokenize(source, trimBlocks, lstripBlocks));
        List<Node> body = p.parseBody(Set.of());
        Token t = p.peek();
        if (t.type() != Type.EOF) {
            throw t.pos().syntax("unexpected '" + p.peekAt(1).value() + "' tag");
        }
        return body;
    }

    private Token peek() {
        return tokens.get(index);
    }

    private Token peekAt(int offset) {
        return tokens.get(Math.min(index + offset, tokens.size() - 1));
    }

    private Token next() {
        return tokens.get(index++);
    }

    private Token expect(Type type, String what) {
        Token t = peek();
        if (t.type() != type) {
            throw t.pos().syntax("expected " + what + ", found " + t);
        }
        return next();
    }

    private void expectOp(String op) {
        Token t = peek();
        if (!t.isOp(op)) {
            throw t.pos().syntax("expected '" + op + "', found " + t);
        }
        next();
    }

    private void expectName(String name) {
        Token t = peek();
        if (!t.isName(name)) {
            throw t.pos().syntax("expected '" + name + "', found " + t);
        }
        next();
    }

    private boolean skipOp(String op) {
        if (peek().isOp(op)) {
            next();
            return true;
        }
        return false;
    }

    private boolean skipName(String name) {
        if (peek().isName(name)) {
            next();
            return true;
        }
        return false;
    }

    private void enter(Pos pos) {
        if (++nesting > MAX_NESTING) {
            throw pos.syntax("template nesting deeper than " + MAX_NESTING + " levels");
        }
    }

    // ---------------------------------------------------------------- statements

    /** Parses nodes until a block tag whose keyword is in {@code endTags} (left unconsumed) or EOF. */
    private List<Node> parseBody(Set<String> endTags) {
        List<Node> body = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.type()) {
                case EOF -> {
                    return body;
                }
                case TEXT -> {
                    next();
                    body.add(new Text(JStr.template(t.value()), t.pos()));
                }
                case VAR_BEGIN -> {
                    next();
                    Expr e = parseTupleOrExpression();
                    expect(Type.VAR_END, "'}}'");
                    body.add(new Output(e, t.pos()));
                }
                case BLOCK_BEGIN -> {
                    Token keyword = peekAt(1);
                    if (keyword.type() == Type.NAME && endTags.contains(keyword.value())) {
                        return body;
                    }
                    next();
                    body.add(parseStatement());
                }
                default -> throw t.pos().syntax("unexpected " + t);
            }
        }
    }

    private void endTag() {
        expect(Type.BLOCK_END, "'%}'");
    }

    /** Consumes {@code {% name %}} that closes a block opened at {@code open}. */
    private void closeBlock(String name, Token open) {
        Token t = peek();
        if (t.type() == Type.EOF) {
            throw open.pos().syntax("unclosed '" + open.value() + "' block: missing '{% " + name + " %}'");
        }
        next();
        expectName(name);
        endTag();
    }

    private Node parseStatement() {
        Token kw = expect(Type.NAME, "a statement keyword");
        enter(kw.pos());
        try {
            return switch (kw.value()) {
                case "if" -> parseIf(kw);
                case "for" -> parseFor(kw);
                case "set" -> parseSet(kw);
                case "macro" -> parseMacro(kw);
                case "call" -> parseCallBlock(kw);
                case "filter" -> parseFilterBlock(kw);
                case "with" -> parseWith(kw);
                case "do" -> {
                    Expr e = parseTupleOrExpression();
                    endTag();
                    yield new Do(e, kw.pos());
                }
                case "generation" -> {
                    endTag();
                    List<Node> body = parseBody(Set.of("endgeneration"));
                    closeBlock("endgeneration", kw);
                    yield new Block(body, kw.pos());
                }
                case "break" -> {
                    endTag();
                    yield new Break(kw.pos());
                }
                case "continue" -> {
                    endTag();
                    yield new Continue(kw.pos());
                }
                case "elif", "else", "endif", "endfor", "endset", "endmacro", "endcall", "endfilter", "endwith",
                        "endgeneration" -> throw kw.pos().syntax("unexpected '" + kw.value() + "' tag");
                case "block", "extends", "include", "import", "from" ->
                        throw kw.pos().syntax("'" + kw.value() + "' is not supported in chat templates");
                default -> throw kw.pos().syntax("unknown tag '" + kw.value() + "'");
            };
        } finally {
            nesting--;
        }
    }

    private Node parseIf(Token kw) {
        List<Branch> branches = new ArrayList<>();
        Expr cond = parseExpression();
        endTag();
        List<Node> elseBody = List.of();
        while (true) {
            List<Node> body = parseBody(Set.of("elif", "else", "endif"));
            branches.add(new Branch(cond, body));
            Token t = peek();
            if (t.type() == Type.EOF) {
                throw kw.pos().syntax("unclosed 'if' block: missing '{% endif %}'");
            }
            next();
            Token which = next();
            if (which.isName("elif")) {
                cond = parseExpression();
                endTag();
                continue;
            }
            if (which.isName("else")) {
                endTag();
                elseBody = parseBody(Set.of("endif"));
                closeBlock("endif", kw);
            } else {
                endTag();
            }
            return new If(branches, elseBody, kw.pos());
        }
    }

    private Node parseFor(Token kw) {
        Target target = parseAssignTarget();
        expectName("in");
        Expr iterable = parseTuple(false);
        Expr filter = null;
        if (skipName("if")) {
            filter = parseExpression();
        }
        if (peek().isName("recursive")) {
            throw peek().pos().syntax("recursive loops are not supported");
        }
        endTag();
        List<Node> body = parseBody(Set.of("else", "endfor"));
        List<Node> elseBody = List.of();
        if (peekAt(1).isName("else")) {
            next();
            next();
            endTag();
            elseBody = parseBody(Set.of("endfor"));
        }
        closeBlock("endfor", kw);
        return new For(target, iterable, filter, body, elseBody, kw.pos());
    }

    private Node parseSet(Token kw) {
        Target target = parseAssignTarget();
        if (skipOp("=")) {
            Expr value = parseTupleOrExpression();
            endTag();
            return new Ast.Set(target, value, kw.pos());
        }
        List<FilterCall> filters = new ArrayList<>();
        while (skipOp("|")) {
            filters.add(parseFilterCall());
        }
        endTag();
        List<Node> body = parseBody(Set.of("endset"));
        closeBlock("endset", kw);
        return new SetBlock(target, filters, body, kw.pos());
    }

    private Target parseAssignTarget() {
        List<Target> items = new ArrayList<>();
        Pos start = peek().pos();
        boolean parenthesized = skipOp("(");
        do {
            if (!items.isEmpty() && (peek().isName("in") || peek().isOp("=") || peek().isOp(")"))) {
                break; // trailing comma
            }
            Token name = expect(Type.NAME, "a variable name");
            if (skipOp(".")) {
                Token attr = expect(Type.NAME, "an attribute name");
                items.add(new AttrTarget(new Name(name.value(), name.pos()), attr.value(), name.pos()));
            } else {
                items.add(new NameTarget(name.value()));
            }
        } while (skipOp(","));
        if (parenthesized) {
            expectOp(")");
        }
        if (items.size() == 1 && !parenthesized) {
            return items.getFirst();
        }
        return new TupleTarget(items, start);
    }

    private List<Param> parseParams() {
        List<Param> params = new ArrayList<>();
        expectOp("(");
        while (!skipOp(")")) {
            if (!params.isEmpty()) {
                expectOp(",");
                if (skipOp(")")) {
                    break;
                }
            }
            Token name = expect(Type.NAME, "a parameter name");
            Expr def = skipOp("=") ? parseExpression() : null;
            params.add(new Param(name.value(), def));
        }
        return params;
    }

    private Node parseMacro(Token kw) {
        Token name = expect(Type.NAME, "a macro name");
        List<Param> params = parseParams();
        endTag();
        List<Node> body = parseBody(Set.of("endmacro"));
        closeBlock("endmacro", kw);
        return new Macro(name.value(), params, body, kw.pos());
    }

    private Node parseCallBlock(Token kw) {
        List<Param> callerParams = peek().isOp("(") ? parseParams() : List.of();
        Expr call = parseExpression();
        if (!(call instanceof Call c)) {
            throw kw.pos().syntax("'call' block needs a macro call, e.g. {% call m() %}");
        }
        endTag();
        List<Node> body = parseBody(Set.of("endcall"));
        closeBlock("endcall", kw);
        return new CallBlock(c, callerParams, body, kw.pos());
    }

    private Node parseFilterBlock(Token kw) {
        List<FilterCall> filters = new ArrayList<>();
        do {
            filters.add(parseFilterCall());
        } while (skipOp("|"));
        endTag();
        List<Node> body = parseBody(Set.of("endfilter"));
        closeBlock("endfilter", kw);
        return new FilterBlock(filters, body, kw.pos());
    }

    private Node parseWith(Token kw) {
        List<Ast.Set> assignments = new ArrayList<>();
        while (peek().type() != Type.BLOCK_END) {
            if (!assignments.isEmpty()) {
                expectOp(",");
            }
            Target t = parseAssignTarget();
            expectOp("=");
            assignments.add(new Ast.Set(t, parseExpression(), kw.pos()));
        }
        endTag();
        List<Node> body = parseBody(Set.of("endwith"));
        closeBlock("endwith", kw);
        return new With(assignments, body, kw.pos());
    }

    // ---------------------------------------------------------------- expressions

    /** An expression, or an unparenthesized tuple {@code a, b} (in {@code {{ }}}, {@code set}, {@code for}). */
    private Expr parseTupleOrExpression() {
        return parseTuple(true);
    }

    private Expr parseTuple(boolean withCondExpr) {
        Pos start = peek().pos();
        Expr first = withCondExpr ? parseExpression() : parseOr();
        if (!peek().isOp(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>();
        items.add(first);
        while (skipOp(",")) {
            Token t = peek();
            if (t.type() == Type.BLOCK_END || t.type() == Type.VAR_END || t.isName("if")) {
                break;
            }
            items.add(withCondExpr ? parseExpression() : parseOr());
        }
        return new TupleExpr(items, start);
    }

    Expr parseExpression() {
        Pos start = peek().pos();
        enter(start);
        try {
            Expr e = parseOr();
            while (skipName("if")) {
                Expr cond = parseOr();
                Expr otherwise = skipName("else") ? parseExpression() : null;
                e = new Conditional(cond, e, otherwise, start);
            }
            return e;
        } finally {
            nesting--;
        }
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (peek().isName("or")) {
            Pos p = next().pos();
            left = new Or(left, parseAnd(), p);
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (peek().isName("and")) {
            Pos p = next().pos();
            left = new And(left, parseNot(), p);
        }
        return left;
    }

    private Expr parseNot() {
        if (peek().isName("not")) {
            Pos p = next().pos();
            enter(p);
            try {
                return new Unary(UnaryOp.NOT, parseNot(), p);
            } finally {
                nesting--;
            }
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        Pos start = peek().pos();
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = peek();
            String op;
            if (t.type() == Type.OP && Set.of("==", "!=", "<", "<=", ">", ">=").contains(t.value())) {
                op = t.value();
                next();
            } else if (t.isName("in")) {
                op = "in";
                next();
            } else if (t.isName("not") && peekAt(1).isName("in")) {
                op = "not in";
                next();
                next();
            } else {
                break;
            }
            ops.add(op);
            rest.add(parseMath1());
        }
        return ops.isEmpty() ? first : new Compare(first, ops, rest, start);
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (peek().isOp("+") || peek().isOp("-")) {
            Token t = next();
            left = new Binary(t.value().equals("+") ? BinaryOp.ADD : BinaryOp.SUB, left, parseConcat(), t.pos());
        }
        return left;
    }

    private Expr parseConcat() {
        Expr left = parseMath2();
        while (peek().isOp("~")) {
            Pos p = next().pos();
            left = new Binary(BinaryOp.CONCAT, left, parseMath2(), p);
        }
        return left;
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (true) {
            Token t = peek();
            BinaryOp op = t.type() != Type.OP ? null : switch (t.value()) {
                case "*" -> BinaryOp.MUL;
                case "/" -> BinaryOp.DIV;
                case "//" -> BinaryOp.FLOORDIV;
                case "%" -> BinaryOp.MOD;
                default -> null;
            };
            if (op == null) {
                return left;
            }
            next();
            left = new Binary(op, left, parsePow(), t.pos());
        }
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (peek().isOp("**")) {
            Pos p = next().pos();
            left = new Binary(BinaryOp.POW, left, parseUnary(true), p);
        }
        return left;
    }

    private Expr parseUnary(boolean withFilter) {
        Token t = peek();
        Expr e;
        if (t.isOp("-") || t.isOp("+")) {
            next();
            enter(t.pos());
            try {
                e = new Unary(t.value().equals("-") ? UnaryOp.NEG : UnaryOp.POS, parseUnary(false), t.pos());
            } finally {
                nesting--;
            }
        } else {
            e = parsePostfix(parsePrimary());
        }
        return withFilter ? parseFilterAndTests(e) : e;
    }

    private Expr parsePrimary() {
        Token t = next();
        return switch (t.type()) {
            case NAME -> switch (t.value()) {
                case "true", "True" -> new Literal(Boolean.TRUE, t.pos());
                case "false", "False" -> new Literal(Boolean.FALSE, t.pos());
                case "none", "None" -> new Literal(null, t.pos());
                default -> new Name(t.value(), t.pos());
            };
            case STRING -> {
                StringBuilder sb = new StringBuilder(t.value());
                while (peek().type() == Type.STRING) {
                    sb.append(next().value()); // adjacent literals concatenate, as in Python
                }
                yield new Literal(JStr.template(sb.toString()), t.pos());
            }
            case INT -> {
                try {
                    yield new Literal(Long.parseLong(t.value()), t.pos());
                } catch (NumberFormatException ex) {
                    throw t.pos().syntax("integer literal too large: " + t.value());
                }
            }
            case FLOAT -> new Literal(Double.parseDouble(t.value()), t.pos());
            case OP -> switch (t.value()) {
                case "(" -> parseParenthesized(t);
                case "[" -> {
                    List<Expr> items = new ArrayList<>();
                    while (!skipOp("]")) {
                        if (!items.isEmpty()) {
                            expectOp(",");
                            if (skipOp("]")) {
                                break;
                            }
                        }
                        items.add(parseExpression());
                    }
                    yield new ListExpr(items, t.pos());
                }
                case "{" -> {
                    List<Expr> keys = new ArrayList<>();
                    List<Expr> values = new ArrayList<>();
                    while (!skipOp("}")) {
                        if (!keys.isEmpty()) {
                            expectOp(",");
                            if (skipOp("}")) {
                                break;
                            }
                        }
                        keys.add(parseExpression());
                        expectOp(":");
                        values.add(parseExpression());
                    }
                    yield new DictExpr(keys, values, t.pos());
                }
                default -> throw t.pos().syntax("unexpected " + t);
            };
            default -> throw t.pos().syntax("unexpected " + t);
        };
    }

    private Expr parseParenthesized(Token open) {
        enter(open.pos());
        try {
            if (skipOp(")")) {
                return new TupleExpr(List.of(), open.pos());
            }
            Expr first = parseExpression();
            if (skipOp(")")) {
                return first;
            }
            List<Expr> items = new ArrayList<>();
            items.add(first);
            while (skipOp(",")) {
                if (peek().isOp(")")) {
                    break;
                }
                items.add(parseExpression());
            }
            expectOp(")");
            return new TupleExpr(items, open.pos());
        } finally {
            nesting--;
        }
    }

    private Expr parsePostfix(Expr e) {
        while (true) {
            Token t = peek();
            if (t.isOp(".")) {
                next();
                Token attr = next();
                if (attr.type() == Type.NAME) {
                    e = new GetAttr(e, attr.value(), t.pos());
                } else if (attr.type() == Type.INT) {
                    e = new GetItem(e, new Literal(Long.parseLong(attr.value()), attr.pos()), t.pos());
                } else {
                    throw attr.pos().syntax("expected an attribute name after '.', found " + attr);
                }
            } else if (t.isOp("[")) {
                next();
                e = parseSubscript(e, t.pos());
            } else if (t.isOp("(")) {
                e = parseCall(e);
            } else {
                return e;
            }
        }
    }

    private Expr parseSubscript(Expr object, Pos pos) {
        Expr[] parts = new Expr[3];
        int part = 0;
        boolean isSlice = false;
        while (!peek().isOp("]")) {
            if (skipOp(":")) {
                isSlice = true;
                if (++part > 2) {
                    throw pos.syntax("too many ':' in slice");
                }
                continue;
            }
            if (parts[part] != null) {
                throw peek().pos().syntax("expected ']' or ':' in subscript, found " + peek());
            }
            parts[part] = parseExpression();
        }
        next();
        if (isSlice) {
            return new Slice(object, parts[0], parts[1], parts[2], pos);
        }
        if (parts[0] == null) {
            throw pos.syntax("empty subscript");
        }
        return new GetItem(object, parts[0], pos);
    }

    private record Arguments(List<Expr> args, List<String> kwargNames, List<Expr> kwargValues) { }

    private Arguments parseArguments() {
        expectOp("(");
        List<Expr> args = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        boolean first = true;
        while (!skipOp(")")) {
            if (!first) {
                expectOp(",");
                if (skipOp(")")) {
                    break;
                }
            }
            first = false;
            if (peek().type() == Type.NAME && peekAt(1).isOp("=")) {
                names.add(next().value());
                next();
                values.add(parseExpression());
            } else {
                if (!names.isEmpty()) {
                    throw peek().pos().syntax("positional argument after keyword argument");
                }
                args.add(parseExpression());
            }
        }
        return new Arguments(args, names, values);
    }

    private Expr parseCall(Expr callee) {
        Pos p = peek().pos();
        Arguments a = parseArguments();
        return new Call(callee, a.args(), a.kwargNames(), a.kwargValues(), p);
    }

    private FilterCall parseFilterCall() {
        Token name = expect(Type.NAME, "a filter name");
        String full = name.value();
        while (peek().isOp(".")) { // dotted filter names exist in some extensions; keep them whole
            next();
            full += "." + expect(Type.NAME, "a filter name").value();
        }
        if (peek().isOp("(")) {
            Arguments a = parseArguments();
            return new FilterCall(full, a.args(), a.kwargNames(), a.kwargValues(), name.pos());
        }
        return new FilterCall(full, List.of(), List.of(), List.of(), name.pos());
    }

    private Expr parseFilterAndTests(Expr e) {
        while (true) {
            Token t = peek();
            if (t.isOp("|")) {
                next();
                FilterCall f = parseFilterCall();
                e = new Filter(e, f, f.pos());
            } else if (t.isName("is")) {
                next();
                boolean negated = skipName("not");
                Token name = expect(Type.NAME, "a test name");
                List<Expr> args = new ArrayList<>();
                Token a = peek();
                if (a.isOp("(")) {
                    Arguments parsed = parseArguments();
                    args.addAll(parsed.args());
                    args.addAll(parsed.kwargValues());
                } else if (a.type() == Type.STRING || a.type() == Type.INT || a.type() == Type.FLOAT
                        || a.isOp("[") || a.isOp("{") || a.type() == Type.NAME && !TEST_ARG_STOP.contains(a.value())) {
                    args.add(parsePostfix(parsePrimary()));
                }
                e = new Test(e, name.value(), args, negated, name.pos());
            } else {
                return e;
            }
        }
    }
}
