package org.llama4j.generate;

import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.llama4j.model.InferenceSession;
import org.llama4j.tokenizer.StreamingDecoder;
import org.llama4j.tokenizer.Tokenizer;

/**
 * The generation loop over one {@link InferenceSession}: prefill the prompt, then sample, stream and decode token
 * by token until an end-of-turn token, a stop string, the token budget, the context length or a cancellation.
 *
 * <p>Text is streamed as it becomes final: the streaming decoder holds back incomplete UTF-8 characters, and
 * {@link StopStrings} holds back text that may turn out to be the start of a stop string.
 */
public final class Generator {
    private final InferenceSession session;
    private final Tokenizer tokenizer;
    private final int[] stopTokens;

    public Generator(InferenceSession session, Tokenizer tokenizer) {
        this.session = session;
        this.tokenizer = tokenizer;
        this.stopTokens = tokenizer.stopTokenIds();
        Arrays.sort(stopTokens);
    }

    public InferenceSession session() {
        return session;
    }

    /**
     * Generates after {@code promptTokens} (appended to whatever the session already holds).
     *
     * @param onDelta receives text deltas as they become final (may be a no-op)
     * @param cancel  checked before every token; may be null
     */
    public GenerationResult generate(int[] promptTokens, GenerationOptions options, Consumer<String> onDelta,
            Cancellation cancel) {
        return generate(promptTokens, null, options, onDelta, cancel);
    }

    /**
     * Like {@link #generate(int[], GenerationOptions, Consumer, Cancellation)}, prefilling with early fusion:
     * {@code inputEmbeddings} maps an absolute position to the row replacing its token embedding (image patches),
     * null for text; a null function means text only.
     */
    public GenerationResult generate(int[] promptTokens, IntFunction<float[]> inputEmbeddings,
            GenerationOptions options, Consumer<String> onDelta, Cancellation cancel) {
        if (promptTokens.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: at least one token is needed to generate");
        }
        int room = session.contextLength() - session.position() - promptTokens.length;
        if (room < 1) {
            throw new IllegalArgumentException("the prompt (" + promptTokens.length + " tokens, after "
                    + session.position() + " already in context) does not fit the context length of "
                    + session.contextLength() + " tokens");
        }
        Sampler sampler = new Sampler(options.sampling());
        StreamingDecoder decoder = tokenizer.streamingDecoder();
        StopStrings stops = new StopStrings(options.stopStrings());
        StringBuilder text = new StringBuilder();
        int budget = Math.min(options.maxTokens(), room);

        long t0 = System.nanoTime();
        float[] logits = session.ingestFused(promptTokens, inputEmbeddings);
        long prefillNanos = System.nanoTime() - t0;
        long t1 = System.nanoTime();

        int[] generated = new int[Math.min(budget, 1024)];
        int count = 0;
        FinishReason reason = FinishReason.LENGTH;
        int stopToken = -1;
        while (true) {
            if (cancel != null && cancel.isCancelled()) {
                reason = FinishReason.CANCELLED;
                break;
            }
            int token = sampler.sample(logits);
            sampler.accept(token);
            if (count == generated.length) {
                generated = Arrays.copyOf(generated, Math.min(budget, generated.length * 2));
            }
            generated[count++] = token;
            if (Arrays.binarySearch(stopTokens, token) >= 0) {
                reason = FinishReason.STOP;
                stopToken = token;
                break;
            }
            String delta = stops.push(decoder.accept(token));
            emit(delta, text, onDelta);
            if (stops.stopped()) {
                reason = FinishReason.STOP;
                break;
            }
            if (count == budget) {
                break;
            }
            logits = session.decode(token);
        }
        if (!stops.stopped()) {
            emit(stops.push(decoder.flush()), text, onDelta);
            emit(stops.flush(), text, onDelta);
        }
        long decodeNanos = System.nanoTime() - t1;
        return new GenerationResult(text.toString(), Arrays.copyOf(generated, count), reason, stopToken,
                stops.matched(), promptTokens.length, prefillNanos, decodeNanos);
    }

    private static void emit(String delta, StringBuilder text, Consumer<String> onDelta) {
        if (!delta.isEmpty()) {
            text.append(delta);
            onDelta.accept(delta);
        }
    }
}
