package org.llama4j.safety.guard;

import java.util.Objects;
import org.llama4j.model.InferenceSession;
import org.llama4j.model.KvCache;
import org.llama4j.model.Llama4Model;

/**
 * Runs the guard on llama4j's own Llama 4 forward pass (Llama Guard 4 is a Llama 4 model). Each check gets a session
 * whose cache holds just the prompt and the answer, not the model's full context.
 */
public final class Llama4GuardModel implements GuardModel {
    private final Llama4Model model;

    public Llama4GuardModel(Llama4Model model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    @Override
    public Session newSession(int tokenCapacity) {
        int contextLength = model.config().contextLength();
        if (tokenCapacity > contextLength) {
            throw new GuardInputException("the guard prompt and answer need " + tokenCapacity
                    + " tokens, the model's context holds " + contextLength);
        }
        InferenceSession session = new InferenceSession(model, new KvCache(model.config(), tokenCapacity));
        return new Session() {
            @Override
            public float[] ingest(int[] tokenIds) {
                return session.ingest(tokenIds);
            }

            @Override
            public float[] decode(int tokenId) {
                return session.decode(tokenId);
            }

            @Override
            public void close() {
                session.close();
            }
        };
    }
}
