package org.llama4j.chat.jinja;

import java.util.List;

/** The parsed template: statements ({@link Node}), expressions ({@link Expr}) and assignment targets. */
final class Ast {
    private Ast() {
    }

    sealed interface Node {
        Pos pos();
    }

    record Text(JStr text, Pos pos) implements Node { }

    record Output(Expr expr, Pos pos) implements Node { }

    record Branch(Expr condition, List<Node> body) { }

    record If(List<Branch> branches, List<Node> elseBody, Pos pos) implements Node { }

    record For(Target target, Expr iterable, Expr filter, List<Node> body, List<Node> elseBody, Pos pos)
            implements Node { }

    record Set(Target target, Expr value, Pos pos) implements Node { }

    record SetBlock(Target target, List<FilterCall> filters, List<Node> body, Pos pos) implements Node { }

    record Param(String name, Expr defaultValue) { }

    record Macro(String name, List<Param> params, List<Node> body, Pos pos) implements Node { }

    record CallBlock(Call call, List<Param> callerParams, List<Node> body, Pos pos) implements Node { }

    record FilterBlock(List<FilterCall> filters, List<Node> body, Pos pos) implements Node { }

    record With(List<Set> assignments, List<Node> body, Pos pos) implements Node { }

    record Do(Expr expr, Pos pos) implements Node { }

    /** A body rendered in place without a scope of its own ({@code {% generation %}}). */
    record Block(List<Node> body, Pos pos) implements Node { }

    record Break(Pos pos) implements Node { }

    record Continue(Pos pos) implements Node { }

    sealed interface Target { }

    record NameTarget(String name) implements Target { }

    record AttrTarget(Expr object, String attribute, Pos pos) implements Target { }

    record TupleTarget(List<Target> items, Pos pos) implements Target { }

    sealed interface Expr {
        Pos pos();
    }

    record Literal(Object value, Pos pos) implements Expr { }

    record Name(String name, Pos pos) implements Expr { }

    record ListExpr(List<Expr> items, Pos pos) implements Expr { }

    record TupleExpr(List<Expr> items, Pos pos) implements Expr { }

    record DictExpr(List<Expr> keys, List<Expr> values, Pos pos) implements Expr { }

    record GetAttr(Expr object, String attribute, Pos pos) implements Expr { }

    record GetItem(Expr object, Expr key, Pos pos) implements Expr { }

    record Slice(Expr object, Expr start, Expr stop, Expr step, Pos pos) implements Expr { }

    record Call(Expr callee, List<Expr> args, List<String> kwargNames, List<Expr> kwargValues, Pos pos)
            implements Expr { }

    record FilterCall(String name, List<Expr> args, List<String> kwargNames, List<Expr> kwargValues, Pos pos) { }

    record Filter(Expr object, FilterCall filter, Pos pos) implements Expr { }

    record Test(Expr object, String name, List<Expr> args, boolean negated, Pos pos) implements Expr { }

    enum UnaryOp { NEG, POS, NOT }

    record Unary(UnaryOp op, Expr operand, Pos pos) implements Expr { }

    enum BinaryOp { ADD, SUB, MUL, DIV, FLOORDIV, MOD, POW, CONCAT }

    record Binary(BinaryOp op, Expr left, Expr right, Pos pos) implements Expr { }

    record And(Expr left, Expr right, Pos pos) implements Expr { }

    record Or(Expr left, Expr right, Pos pos) implements Expr { }

    /** A Python comparison chain: {@code a < b <= c} means {@code a < b and b <= c}. */
    record Compare(Expr first, List<String> ops, List<Expr> rest, Pos pos) implements Expr { }

    record Conditional(Expr condition, Expr then, Expr otherwise, Pos pos) implements Expr { }
}
