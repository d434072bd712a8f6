package org.llama4j.server;

/**
 * How much of a streamed answer may be sent as content while tools are offered: nothing that might turn out to be
 * a tool call. A call is what {@link org.llama4j.chat.ToolCallParser} accepts: an answer that starts (after
 * whitespace) with JSON or a bracketed pythonic list, or anything from a {@code <|python_start|>} marker on. So an
 * answer starting with {@code {} or {@code [} is held until it is complete, and otherwise text is held from a
 * marker, or from a trailing partial marker, onwards. The held text is sent, or parsed into calls, at the end.
 */
final class ToolCallHoldBack {
    static final String PYTHON_START = "<|python_start|>";

    private ToolCallHoldBack() {
    }

    /** The length of the prefix of {@code text} (the answer so far) that is content whatever comes next. */
    static int releasable(String text) {
        String lead = text.stripLeading();
        if (lead.isEmpty() || lead.charAt(0) == '{' || lead.charAt(0) == '[' || lead.startsWith(PYTHON_START)
                || PYTHON_START.startsWith(lead)) {
            return 0;
        }
        int marker = text.indexOf(PYTHON_START);
        if (marker >= 0) {
            return marker;
        }
        for (int k = Math.min(PYTHON_START.length() - 1, text.length()); k > 0; k--) {
            if (text.endsWith(PYTHON_START.substring(0, k))) {
                return text.length() - k;
            }
        }
        return text.length();
    }
}
