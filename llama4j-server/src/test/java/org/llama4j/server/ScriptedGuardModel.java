package org.llama4j.server;

import java.util.Arrays;
import java.util.function.Function;
import org.llama4j.safety.guard.GuardModel;
import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;

/**
 * A guard model whose logits spell a scripted answer: {@code judge} reads the guard prompt and returns the answer
 * (e.g. {@code "unsafe\nS1"}), or throws to play a crashing guard. At each step the scripted token gets logit 10
 * and every other token 0, so greedy decoding writes the answer and then end of turn, exactly as a real guard's
 * forward pass would hand it to {@link org.llama4j.safety.guard.LlamaGuard}.
 */
final class ScriptedGuardModel implements GuardModel {
    private final Tokenizer tokenizer;
    private final Function<String, String> judge;

    ScriptedGuardModel(Tokenizer tokenizer, Function<String, String> judge) {
        this.tokenizer = tokenizer;
        this.judge = judge;
    }

    @Override
    public Session newSession(int tokenCapacity) {
        return new Session() {
            private int[] script;
            private int step;

            @Override
            public float[] ingest(int[] tokenIds) {
                int[] text = tokenizer.encode(judge.apply(tokenizer.decode(tokenIds)), SpecialTokens.NONE);
                script = Arrays.copyOf(text, text.length + 1);
                script[text.length] = tokenizer.eotId();
                return logitsFor(script[0]);
            }

            @Override
            public float[] decode(int tokenId) {
                step++;
                return logitsFor(script[Math.min(step, script.length - 1)]);
            }

            @Override
            public void close() {
            }
        };
    }

    private float[] logitsFor(int favoured) {
        float[] logits = new float[tokenizer.vocabularySize()];
        logits[favoured] = 10f;
        return logits;
    }
}
