package org.llama4j.safety.guard;

import java.util.List;

/**
 * A guard prompt ready for the model.
 *
 * @param text           the guard prompt (llama-stack's template filled in), the user message of the chat
 * @param rendered       the chat as text with the special tokens written out, for display and logs
 * @param ids            the model input; conversation content is plain text here whatever it contains
 * @param format         the chat format used
 * @param agentType      whose message is assessed: the capitalized role of the last message
 * @param listedCategories the categories the prompt lists, in order
 */
public record GuardPrompt(String text, String rendered, int[] ids, GuardPromptFormat format, String agentType,
                          List<HazardCategory> listedCategories) {
    public GuardPrompt {
        ids = ids.clone();
        listedCategories = List.copyOf(listedCategories);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }
}
