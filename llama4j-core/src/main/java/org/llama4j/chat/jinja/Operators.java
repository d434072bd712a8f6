package org.llama4j.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import org.llama4j.chat.jinja.Ast.BinaryOp;

/** Python arithmetic, concatenation and comparison on template values. */
final class Operators {
    private Operators() {
    }

    static Object binary(Interpreter in, BinaryOp op, Object a, Object b, Pos pos) {
        if (op == BinaryOp.CONCAT) {
            JStr joined = Values.str(a).concat(Values.str(b));
            checkSize(in, joined.length(), pos);
            return joined;
        }
        Interpreter.failIfUndefined(a, pos);
        Interpreter.failIfUndefined(b, pos);
        try {
            if (Values.isNumber(a) && Values.isNumber(b)) {
                return arithmetic(op, a, b, pos);
            }
            switch (op) {
                case ADD -> {
                    if (a instanceof JStr x && b instanceof JStr y) {
                        checkSize(in, (long) x.length() + y.length(), pos);
                        return x.concat(y);
                    }
                    if (a instanceof List<?> x && b instanceof List<?> y && (x instanceof PyTuple) == (y instanceof PyTuple)) {
                        checkSequence(in, (long) x.size() + y.size(), pos);
                        List<Object> out = new ArrayList<>(x);
                        out.addAll(y);
                        return x instanceof PyTuple ? new PyTuple(out) : out;
                    }
                    if (a instanceof JStr) {
                        throw pos.error("can only concatenate str (not \"" + Values.typeName(b) + "\") to str");
                    }
                }
                case MUL -> {
                    Object seq = Values.isNumber(a) ? b : a;
                    Object count = Values.isNumber(a) ? a : b;
                    if ((count instanceof Long || count instanceof Boolean) && (seq instanceof JStr || seq instanceof List)) {
                        long n = Math.max(0, Values.asLong(count));
                        if (seq instanceof JStr s) {
                            checkSize(in, n * s.length(), pos);
                            JStr.Builder sb = new JStr.Builder();
                            for (long i = 0; i < n; i++) {
                                sb.append(s);
                            }
                            return sb.build();
                        }
                        List<?> l = (List<?>) seq;
                        checkSequence(in, n * l.size(), pos);
                        List<Object> out = new ArrayList<>();
                        for (long i = 0; i < n; i++) {
                            out.addAll(l);
                        }
                        return seq instanceof PyTuple ? new PyTuple(out) : out;
                    }
                }
                case MOD -> {
                    if (a instanceof JStr format) { // Python printf-style formatting: '%s: %d' % (name, n)
                        return Filters.format(format, b instanceof PyTuple t ? t : List.of(b), pos);
                    }
                }
                default -> { }
            }
        } catch (ArithmeticException e) {
            throw pos.error(e.getMessage());
        }
        throw pos.error("unsupported operand type(s) for " + symbol(op) + ": '" + Values.typeName(a) + "' and '"
                + Values.typeName(b) + "'");
    }

    private static void checkSize(Interpreter in, long size, Pos pos) {
        if (size > in.limits.maxOutputChars()) {
            throw new TemplateLimitException("string of " + size + " characters exceeds the limit of "
                    + in.limits.maxOutputChars(), pos.line(), pos.column());
        }
    }

    private static void checkSequence(Interpreter in, long size, Pos pos) {
        if (size > in.limits.maxSequenceSize()) {
            throw new TemplateLimitException("sequence of " + size + " items exceeds the limit of "
                    + in.limits.maxSequenceSize(), pos.line(), pos.column());
        }
    }

    private static String symbol(BinaryOp op) {
        return switch (op) {
            case ADD -> "+";
            case SUB -> "-";
            case MUL -> "*";
            case DIV -> "/";
            case FLOORDIV -> "//";
            case MOD -> "%";
            case POW -> "**";
            case CONCAT -> "~";
        };
    }

    private static Object arithmetic(BinaryOp op, Object a, Object b, Pos pos) {
        boolean floats = a instanceof Double || b instanceof Double;
        if (op == BinaryOp.DIV) {
            double y = Values.toDouble(b);
            if (y == 0) {
                throw pos.error("division by zero");
            }
            return Values.toDouble(a) / y;
        }
        if (floats) {
            double x = Values.toDouble(a);
            double y = Values.toDouble(b);
            return switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case FLOORDIV -> {
                    if (y == 0) {
                        throw pos.error("float floor division by zero");
                    }
                    yield Math.floor(x / y);
                }
                case MOD -> {
                    if (y == 0) {
                        throw pos.error("float modulo");
                    }
                    double r = x % y;
                    yield r != 0 && (r < 0) != (y < 0) ? r + y : r;
                }
                case POW -> Math.pow(x, y);
                default -> throw new IllegalStateException();
            };
        }
        long x = Values.asLong(a);
        long y = Values.asLong(b);
        return switch (op) {
            case ADD -> Math.addExact(x, y);
            case SUB -> Math.subtractExact(x, y);
            case MUL -> Math.multiplyExact(x, y);
            case FLOORDIV -> {
                if (y == 0) {
                    throw pos.error("integer division or modulo by zero");
                }
                yield Math.floorDiv(x, y);
            }
            case MOD -> {
                if (y == 0) {
                    throw pos.error("integer division or modulo by zero");
                }
                yield Math.floorMod(x, y);
            }
            case POW -> {
                if (y < 0) {
                    yield Math.pow(x, y);
                }
                if (x == 0 || x == 1) {
                    yield y == 0 ? 1L : x;
                }
                if (x == -1) {
                    yield y % 2 == 0 ? 1L : -1L;
                }
                long r = 1; // |x| >= 2 overflows within 63 multiplications, so this loop is short
                for (long i = 0; i < y; i++) {
                    r = Math.multiplyExact(r, x);
                }
                yield r;
            }
            default -> throw new IllegalStateException();
        };
    }

    static boolean compare(String op, Object a, Object b, Pos pos) {
        try {
            return switch (op) {
                case "==" -> Values.eq(a, b);
                case "!=" -> !Values.eq(a, b);
                case "in" -> Values.contains(b, a);
                case "not in" -> !Values.contains(b, a);
                default -> {
                    Interpreter.failIfUndefined(a, pos);
                    Interpreter.failIfUndefined(b, pos);
                    int c = Values.compare(a, b);
                    yield switch (op) {
                        case "<" -> c < 0;
                        case "<=" -> c <= 0;
                        case ">" -> c > 0;
                        case ">=" -> c >= 0;
                        default -> throw new IllegalStateException(op);
                    };
                }
            };
        } catch (IllegalArgumentException e) {
            throw pos.error(e.getMessage().replace("'<'", "'" + op + "'"));
        }
    }
}
