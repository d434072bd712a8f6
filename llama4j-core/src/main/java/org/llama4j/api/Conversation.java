package org.llama4j.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.llama4j.chat.ChatMessage;
import org.llama4j.generate.Cancellation;
import org.llama4j.generate.GenerationResult;
import org.llama4j.generate.Generator;
import org.llama4j.model.InferenceSession;

/**
 * A multi-turn chat that keeps its KV cache: each turn renders the whole conversation, and when the tokens already
 * in the cache are a prefix of the new prompt only the rest is processed. Not thread-safe.
 */
public final class Conversation implements AutoCloseable {
    private final ChatModel model;
    private final List<ChatMessage> messages = new ArrayList<>();
    private InferenceSession session;
    private int[] cached = new int[0]; // the tokens the session holds, in order

    Conversation(ChatModel model) {
        this.model = model;
    }

    public List<ChatMessage> messages() {
        return List.copyOf(messages);
    }

    public Conversation system(String text) {
        messages.add(ChatMessage.system(text));
        return this;
    }

    /** Adds a user message, generates the answer (streamed to {@code onDelta}) and adds it to the history. */
    public ChatResponse send(String userText, ChatOptions options, Consumer<String> onDelta, Cancellation cancel) {
        return send(ChatMessage.user(userText), options, onDelta, cancel);
    }

    public ChatResponse send(ChatMessage message, ChatOptions options, Consumer<String> onDelta, Cancellation cancel) {
        messages.add(message);
        int[] prompt = model.promptTokens(messages, options);
        int common = commonPrefix(cached, prompt);
        if (session == null || common < cached.length || common == prompt.length) {
            // The cache cannot be rewound (chunked layers keep a ring), so a diverging history starts afresh.
            closeSession();
            session = model.model().newSession();
            cached = new int[0];
            common = 0;
        }
        int[] fresh = Arrays.copyOfRange(prompt, common, prompt.length);
        GenerationResult g = new Generator(session, model.tokenizer()).generate(fresh, options.generation(),
                onDelta, cancel);
        // The session holds the prompt and every generated token except the last (never fed back).
        int fedBack = Math.max(0, g.tokens().length - 1);
        int[] held = Arrays.copyOf(prompt, prompt.length + fedBack);
        System.arraycopy(g.tokens(), 0, held, prompt.length, fedBack);
        cached = held;
        ChatResponse r = model.answer(g);
        messages.add(r.toolCalls().isEmpty() ? ChatMessage.assistant(r.text())
                : ChatMessage.assistantToolCalls(r.text(), r.toolCalls()));
        return r;
    }

    /** Tokens currently held in the KV cache (for diagnostics and tests). */
    public int cachedTokens() {
        return cached.length;
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }

    private void closeSession() {
        if (session != null) {
            session.close();
            session = null;
        }
    }

    @Override
    public void close() {
        closeSession();
    }
}
