package org.llama4j.chat.jinja;

import java.util.List;
import java.util.Map;

/** Jinja's builtin tests ({@code x is defined}, {@code n is divisibleby 3}, ...). */
final class Tests {
    private Tests() {
    }

    static boolean exists(String name) {
        return switch (name) {
            case "defined", "undefined", "none", "string", "mapping", "iterable", "number", "integer", "float",
                    "sequence", "boolean", "true", "false", "odd", "even", "divisibleby", "equalto", "eq", "==",
                    "ne", "!=", "lt", "<", "lessthan", "le", "<=", "gt", ">", "greaterthan", "ge", ">=", "in",
                    "sameas", "callable", "lower", "upper", "escaped", "filter", "test" -> true;
            default -> false;
        };
    }

    private static Object arg(List<Object> args, String test) {
        if (args.isEmpty()) {
            throw new IllegalArgumentException("needs an argument");
        }
        return args.getFirst();
    }

    static boolean apply(Interpreter in, String name, Object v, List<Object> args, Pos pos) {
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "string" -> v instanceof JStr;
            case "mapping" -> v instanceof Map;
            case "iterable" -> Values.isIterable(v);
            case "sequence" -> v instanceof List || v instanceof JStr || v instanceof Map;
            case "number" -> v instanceof Long || v instanceof Double;
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "callable" -> v instanceof JinjaCallable;
            case "odd", "even" -> {
                if (!(v instanceof Long l)) {
                    throw pos.error("test '" + name + "' needs an integer, got " + Values.typeName(v));
                }
                yield (Math.floorMod(l, 2) == 1) == name.equals("odd");
            }
            case "divisibleby" -> {
                Object d = arg(args, name);
                if (!(v instanceof Long a) || !(d instanceof Long b)) {
                    throw pos.error("test 'divisibleby' needs integers");
                }
                if (b == 0) {
                    throw pos.error("integer division or modulo by zero");
                }
                yield a % b == 0;
            }
            case "equalto", "eq", "==" -> Values.eq(v, arg(args, name));
            case "ne", "!=" -> !Values.eq(v, arg(args, name));
            case "lt", "<", "lessthan" -> Operators.compare("<", v, arg(args, name), pos);
            case "le", "<=" -> Operators.compare("<=", v, arg(args, name), pos);
            case "gt", ">", "greaterthan" -> Operators.compare(">", v, arg(args, name), pos);
            case "ge", ">=" -> Operators.compare(">=", v, arg(args, name), pos);
            case "in" -> Values.contains(arg(args, name), v);
            case "sameas" -> {
                Object o = arg(args, name);
                yield v == o || v instanceof Boolean && v.equals(o);
            }
            case "lower" -> v instanceof JStr s && s.text().equals(s.text().toLowerCase());
            case "upper" -> v instanceof JStr s && s.text().equals(s.text().toUpperCase());
            case "escaped" -> false;
            case "filter" -> arg(args, name) instanceof JStr s && Filters.exists(s.text());
            case "test" -> arg(args, name) instanceof JStr s && exists(s.text());
            default -> throw pos.error("no test named '" + name + "'");
        };
    }
}
