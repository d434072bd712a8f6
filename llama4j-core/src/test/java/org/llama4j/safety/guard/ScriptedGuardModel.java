package org.llama4j.safety.guard;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;

/**
 * A deterministic stand-in for a guard model: it reads the prompt text, picks an answer with {@code judge}, and
 * then produces logits that make greedy decoding spell that answer followed by end of turn. The chosen token gets
 * logit {@code margin}, every other token 0, so the softmax at each step is known in closed form.
 */
final class ScriptedGuardModel implements GuardModel {
    final List<int[]> prompts = new ArrayList<>();
    final List<Integer> fedTokens = new ArrayList<>();
    final List<Integer> capacities = new ArrayList<>();
    int sessionsClosed;

    private final Tokenizer tokenizer;
    private final Function<String, String> judge;
    private final float margin;

    ScriptedGuardModel(Tokenizer tokenizer, Function<String, String> judge, float margin) {
        this.tokenizer = tokenizer;
        this.judge = judge;
        this.margin = margin;
    }

    @Override
    public Session newSession(int tokenCapacity) {
        capacities.add(tokenCapacity);
        return new Session() {
            private int[] script;
            private int step;

            @Override
            public float[] ingest(int[] tokenIds) {
                if (script != null) {
                    throw new IllegalStateException("prompt ingested twice");
                }
                prompts.add(tokenIds.clone());
                String answer = judge.apply(tokenizer.decode(tokenIds));
                int[] text = tokenizer.encode(answer, SpecialTokens.NONE);
                script = Arrays.copyOf(text, text.length + 1);
                script[text.length] = tokenizer.eotId();
                return logitsFor(script[0]);
            }

            @Override
            public float[] decode(int tokenId) {
                fedTokens.add(tokenId);
                if (tokenId != script[step]) {
                    throw new IllegalStateException("fed " + tokenId + ", the greedy choice was " + script[step]);
                }
                step++;
                return logitsFor(script[Math.min(step, script.length - 1)]);
            }

            @Override
            public void close() {
                sessionsClosed++;
            }
        };
    }

    float[] logitsFor(int favoured) {
        float[] logits = new float[tokenizer.vocabularySize()];
        logits[favoured] = margin;
        return logits;
    }
}
