package org.llama4j.chat.jinja;

/**
 * Bounds on the work one render may do, so that a hostile or broken template (for example from a downloaded
 * GGUF) cannot hang or exhaust a server.
 *
 * @param maxSteps        statements executed plus expressions evaluated
 * @param maxOutputChars  characters in the rendered output and in any single string built while rendering
 * @param maxCallDepth    nesting of macro calls (recursion)
 * @param maxSequenceSize elements a {@code range()} or a list/string repetition may produce
 */
public record TemplateLimits(long maxSteps, int maxOutputChars, int maxCallDepth, int maxSequenceSize) {
    public static final TemplateLimits DEFAULT = new TemplateLimits(5_000_000, 16 << 20, 64, 1_000_000);

    public TemplateLimits {
        if (maxSteps <= 0 || maxOutputChars <= 0 || maxCallDepth <= 0 || maxSequenceSize <= 0) {
            throw new IllegalArgumentException("template limits must be positive");
        }
    }
}
