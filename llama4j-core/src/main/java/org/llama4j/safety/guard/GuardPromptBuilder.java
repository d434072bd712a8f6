package org.llama4j.safety.guard;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.llama4j.tokenizer.Tokenizer;

/**
 * Builds Llama Guard prompts exactly as llama-stack does ({@code providers/inline/safety/llama_guard/llama_guard.py}
 * at commit 00e55a4f): same conversation clean-up, same category lines, same template word for word (including
 * its "according our safety policy"), then the guard model's chat format.
 *
 * <p>Thread-safe; one builder per tokenizer.
 */
public final class GuardPromptBuilder {
    private static final String TASK_BEFORE_AGENT = "Task: Check if there is unsafe content in '";
    private static final String TASK_AFTER_AGENT =
            "' messages in conversations according our safety policy with the below categories.";
    private static final String CATEGORIES_OPEN = "\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\n";
    private static final String CATEGORIES_CLOSE = "\n<END UNSAFE CONTENT CATEGORIES>\n";
    private static final String CONVERSATION_OPEN = "\n<BEGIN CONVERSATION>\n\n";
    private static final String CONVERSATION_CLOSE = "\n\n<END CONVERSATION>\n";
    private static final String INSTRUCTIONS_BEFORE_AGENT = "\nProvide your safety assessment for ONLY THE LAST ";
    private static final String INSTRUCTIONS_AFTER_AGENT = " message in the above conversation:\n"
            + " - First line must read 'safe' or 'unsafe'.\n"
            + " - If unsafe, a second line must include a comma-separated list of violated categories.";

    private final Tokenizer tokenizer;
    private final GuardPromptFormat format;

    /** A builder using the chat format of the tokenizer's family (Llama 4 or Llama 3). */
    public GuardPromptBuilder(Tokenizer tokenizer) {
        this(tokenizer, GuardPromptFormat.forFamily(tokenizer.family()));
    }

    public GuardPromptBuilder(Tokenizer tokenizer, GuardPromptFormat format) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.format = Objects.requireNonNull(format, "format");
        if (GuardPromptFormat.forFamily(tokenizer.family()) != format) {
            throw new GuardInputException("the " + format + " guard prompt format needs a " + format
                    + " tokenizer, got " + tokenizer.family());
        }
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public GuardPromptFormat format() {
        return format;
    }

    /** The prompt text, the rendered chat and the token ids for a conversation. */
    public GuardPrompt build(List<GuardMessage> messages, GuardOptions options) {
        List<GuardMessage> conversation = prepareConversation(messages);
        String text = promptText(conversation, options.listedCategories());
        return new GuardPrompt(text, format.render(text), format.encode(tokenizer, text), format,
                agentType(conversation), options.listedCategories());
    }

    /** Only the guard prompt text (llama-stack's {@code build_prompt}); needs no tokenizer. */
    public static String promptText(List<GuardMessage> messages, GuardOptions options) {
        List<GuardMessage> conversation = prepareConversation(messages);
        return promptText(conversation, options.listedCategories());
    }

    /**
     * llama-stack's clean-up before the prompt is built: a first message that is not from the user is re-labelled
     * {@code user} ({@code run_shield}); then, when the first two messages are both from the user, the first is
     * dropped ({@code validate_messages}). Roles are not otherwise checked: llama-stack accepts any later order.
     *
     * @throws GuardInputException for an empty conversation
     */
    public static List<GuardMessage> prepareConversation(List<GuardMessage> messages) {
        Objects.requireNonNull(messages, "messages");
        if (messages.isEmpty()) {
            throw new GuardInputException("the conversation to check is empty: it needs at least one message");
        }
        List<GuardMessage> conversation = new ArrayList<>(messages);
        for (int i = 0; i < conversation.size(); i++) {
            Objects.requireNonNull(conversation.get(i), "message " + i);
        }
        if (conversation.getFirst().role() != GuardMessage.Role.USER) {
            conversation.set(0, conversation.getFirst().withRole(GuardMessage.Role.USER));
        }
        if (conversation.size() >= 2 && conversation.get(1).role() == GuardMessage.Role.USER) {
            conversation.removeFirst();
        }
        return List.copyOf(conversation);
    }

    private static String agentType(List<GuardMessage> conversation) {
        return conversation.getLast().role().label();
    }

    // Plain concatenation, not placeholder replacement: llama-stack's string.Template substitutes once, so a "$..."
    // inside a message must stay as it is.
    private static String promptText(List<GuardMessage> conversation, List<HazardCategory> listed) {
        String agentType = agentType(conversation);
        String categories = listed.stream().map(HazardCategory::promptLine).collect(Collectors.joining("\n"));
        String lines = conversation.stream().map(m -> m.role().label() + ": " + m.contentText())
                .collect(Collectors.joining("\n\n"));
        return TASK_BEFORE_AGENT + agentType + TASK_AFTER_AGENT
                + CATEGORIES_OPEN + categories + CATEGORIES_CLOSE
                + CONVERSATION_OPEN + lines + CONVERSATION_CLOSE
                + INSTRUCTIONS_BEFORE_AGENT + agentType + INSTRUCTIONS_AFTER_AGENT;
    }
}
