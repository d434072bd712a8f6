package org.llama4j.model;

import java.util.List;
import org.llama4j.kernel.LinearMap;
import org.llama4j.tensor.Tensor;

/**
 * The weights of a Llama 4 text model, already wired into the maps the forward pass applies, so the model never
 * sees tensor names or storage layouts. {@link HfWeightLayout} and {@link GgufWeightLayout} build it from the
 * two checkpoint formats; tests build it from random in-memory tensors.
 *
 * @param tokenEmbeddings {@code vocabSize} rows of {@code hiddenSize}
 * @param finalNorm       RMSNorm weight before the output head
 * @param outputHead      hidden state to logits ({@code vocabSize} outputs)
 */
public record Llama4Weights(Tensor tokenEmbeddings, float[] finalNorm, LinearMap outputHead, List<Block> blocks) {

    public Llama4Weights {
        blocks = List.copyOf(blocks);
    }

    /** One transformer block: pre-norm attention, then pre-norm feed-forward. */
    public record Block(float[] attentionNorm, LinearMap query, LinearMap key, LinearMap value, LinearMap output,
                        float[] ffnNorm, FeedForward feedForward) {
    }

    /** The feed-forward half of a block: a dense SwiGLU or a mixture of experts. */
    public sealed interface FeedForward permits SwiGlu, MixtureOfExperts {
    }

    /**
     * {@code down(silu(gate·x) ⊙ up·x)}. {@code gateUp} produces the gate half then the up half (either one fused
     * tensor or two tensors stacked), {@code down} maps the {@code width} hidden values back.
     */
    public record SwiGlu(LinearMap gateUp, LinearMap down) implements FeedForward {
        public SwiGlu {
            if (gateUp.outputSize() != 2 * down.inputSize() || gateUp.inputSize() != down.outputSize()) {
                throw new IllegalArgumentException("SwiGLU maps do not fit: gate/up " + gateUp.inputSize() + "->"
                        + gateUp.outputSize() + ", down " + down.inputSize() + "->" + down.outputSize());
            }
        }

        public int width() {
            return down.inputSize();
        }
    }

    /**
     * Routed experts plus one shared expert every token goes through. {@code router} scores each expert
     * ({@code experts.size()} outputs).
     */
    public record MixtureOfExperts(LinearMap router, List<SwiGlu> experts, SwiGlu sharedExpert, int expertsPerToken)
            implements FeedForward {
        public MixtureOfExperts {
            experts = List.copyOf(experts);
            if (router.outputSize() != experts.size()) {
                throw new IllegalArgumentException("router scores " + router.outputSize() + " experts, but there are "
                        + experts.size());
            }
        }
    }
}
