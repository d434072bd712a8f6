package org.llama4j.chat.jinja;

import java.util.AbstractList;
import java.util.List;

/** An immutable Python tuple: like a list, but prints as {@code (a, b)} and cannot be appended to. */
final class PyTuple extends AbstractList<Object> {
    private final Object[] items;

    PyTuple(List<?> items) {
        this.items = items.toArray();
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }
}
