package org.llama4j.chat.jinja;

import java.util.List;
import java.util.Map;

/** Something a template can call: a global function, a macro, a bound string/dict/list method. */
@FunctionalInterface
public interface JinjaCallable {
    /**
     * @param args   positional arguments, already evaluated
     * @param kwargs keyword arguments in call order
     * @throws TemplateRuntimeException (position 0) or any {@link TemplateException}; the interpreter adds the
     *                                  call site position when missing
     */
    Object call(List<Object> args, Map<String, Object> kwargs);
}
