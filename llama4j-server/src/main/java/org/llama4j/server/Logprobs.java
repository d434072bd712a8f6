package org.llama4j.server;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import org.llama4j.server.GenerationEvent.TokenLogprob;
import org.llama4j.tokenizer.Tokenizer;

/** Log-probabilities of tokens as the OpenAI API reports them (natural log, model distribution). */
final class Logprobs {
    /** The API's limit on {@code top_logprobs}. */
    static final int MAX_TOP = 20;

    private Logprobs() {
    }

    static float[] logSoftmax(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        float logZ = (float) (max + Math.log(sum));
        float[] out = new float[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - logZ;
        }
        return out;
    }

    static TokenLogprob describe(Tokenizer tokenizer, float[] logSoftmax, int chosen, int top) {
        List<TokenLogprob> alternatives = new ArrayList<>();
        if (top > 0) {
            // Min-heap of the best `top` ids, ties broken towards the lower id for a stable order.
            PriorityQueue<Integer> best = new PriorityQueue<>((a, b) -> logSoftmax[a] != logSoftmax[b]
                    ? Float.compare(logSoftmax[a], logSoftmax[b]) : Integer.compare(b, a));
            for (int i = 0; i < logSoftmax.length; i++) {
                best.add(i);
                if (best.size() > top) {
                    best.poll();
                }
            }
            while (!best.isEmpty()) {
                alternatives.add(0, single(tokenizer, logSoftmax, best.poll()));
            }
        }
        TokenLogprob c = single(tokenizer, logSoftmax, chosen);
        return new TokenLogprob(c.token(), c.bytes(), c.logprob(), List.copyOf(alternatives));
    }

    private static TokenLogprob single(Tokenizer tokenizer, float[] logSoftmax, int id) {
        return new TokenLogprob(tokenizer.tokenText(id), tokenizer.tokenBytes(id), logSoftmax[id], List.of());
    }
}
