package org.llama4j.generate;

import java.util.List;

/**
 * Watches streamed text for user stop strings. Text that might be the start of a stop string is held back
 * until it is known not to be, so a client never sees part of a stop string, and generation stops exactly
 * before the first occurrence.
 */
public final class StopStrings {
    private final List<String> stops;
    private final int longest;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;
    private String matched;

    public StopStrings(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
        this.longest = this.stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /**
     * Adds a text delta and returns the part that can be emitted now. After a stop string is found this returns
     * the text before it and {@link #stopped()} becomes true; later calls return "".
     */
    public String push(String delta) {
        if (stopped) {
            return "";
        }
        if (stops.isEmpty()) {
            return delta;
        }
        pending.append(delta);
        int first = -1;
        String which = null;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
                which = s;
            }
        }
        if (first >= 0) {
            stopped = true;
            matched = which;
            String out = pending.substring(0, first);
            pending.setLength(0);
            return out;
        }
        // Keep the longest suffix that is a prefix of some stop string; emit the rest.
        int keep = 0;
        int maxKeep = Math.min(longest - 1, pending.length());
        for (int k = maxKeep; k > 0; k--) {
            String tail = pending.substring(pending.length() - k);
            boolean prefix = false;
            for (String s : stops) {
                if (s.startsWith(tail)) {
                    prefix = true;
                    break;
                }
            }
            if (prefix) {
                keep = k;
                break;
            }
        }
        int emit = pending.length() - keep;
        // Never split a surrogate pair between what is emitted and what is held.
        if (emit > 0 && emit < pending.length() && Character.isHighSurrogate(pending.charAt(emit - 1))) {
            emit--;
        }
        String out = pending.substring(0, emit);
        pending.delete(0, emit);
        return out;
    }

    /** Releases held-back text at the end of generation (no stop string followed). */
    public String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    public boolean stopped() {
        return stopped;
    }

    /** The stop string that ended generation, or null. */
    public String matched() {
        return matched;
    }
}
