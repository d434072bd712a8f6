package org.llama4j.chat.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/** Jinja's {@code namespace()}: a mutable attribute bag that survives loop scopes. */
final class Namespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();
}
