package org.llama4j.chat.jinja;

import java.util.List;

/** The {@code loop} variable inside a for loop. */
final class LoopInfo {
    final List<Object> items;
    final int depth;
    int index0;

    LoopInfo(List<Object> items, int depth) {
        this.items = items;
        this.depth = depth;
    }

    /** Attribute lookup; {@code null} result means "no such attribute". */
    Object attribute(String name) {
        int n = items.size();
        return switch (name) {
            case "index" -> (long) index0 + 1;
            case "index0" -> (long) index0;
            case "revindex" -> (long) (n - index0);
            case "revindex0" -> (long) (n - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == n - 1;
            case "length" -> (long) n;
            case "depth" -> (long) depth;
            case "depth0" -> (long) depth - 1;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("there is no previous item");
            case "nextitem" -> index0 < n - 1 ? items.get(index0 + 1) : new Undefined("there is no next item");
            case "cycle" -> (JinjaCallable) (args, kwargs) -> {
                if (args.isEmpty()) {
                    throw new IllegalArgumentException("no items for cycling given");
                }
                return args.get(index0 % args.size());
            };
            default -> null;
        };
    }
}
