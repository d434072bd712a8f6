package org.llama4j.bench.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llama4j.bench.llamacpp.LlamaCppBench;
import org.llama4j.bench.llamacpp.LlamaCppBench.Repeat;
import org.llama4j.kernel.KernelMode;
import org.llama4j.model.InferenceSession;
import org.llama4j.model.KvCache;
import org.llama4j.model.Llama4Model;
import org.llama4j.model.LoadOptions;

/**
 * Prefill and decode throughput of llama4j, measured exactly like {@link LlamaCppBench} measures llama.cpp so the
 * two print side by side: prefill = the whole prompt in one {@link InferenceSession#ingest} (logits for the last
 * position only); decode = single-token steps feeding back the argmax of the previous step; wall clock around the
 * forward calls only, never around argmax. Each repeat starts from an empty KV cache; one unrecorded warm-up pass
 * (full prefill, a few decode steps) comes first: JIT compilation and first touch of the mapped weights.
 */
public final class Llama4jBench {
    private Llama4jBench() {
    }

    /**
     * @param activations the mode the loaded model computed in
     * @param loadNanos   {@link Llama4Model#load} (header parsing, weight mapping and wiring), once per run
     * @param repeats     the recorded passes, same record as the llama.cpp peer
     */
    public record Result(Path model, KernelMode activations, int promptTokens, int genTokens, long loadNanos,
                         List<Repeat> repeats) {
    }

    /** The benchmark prompt for {@code model}: {@link LlamaCppBench#syntheticPrompt} with the model's BOS, seed 42. */
    public static int[] prompt(Path model, int promptTokens) {
        var config = Llama4Model.readConfig(model);
        return LlamaCppBench.syntheticPrompt(config.bosTokenId(), config.vocabSize(), promptTokens, 42);
    }

    /**
     * Loads {@code modelPath} with {@code options} (e.g. the activation mode), then a warm-up pass and
     * {@code repeats} measured passes of {@code prompt} + decode.
     */
    public static Result run(Path modelPath, LoadOptions options, int[] prompt, int genTokens, int repeats) {
        if (genTokens < 1 || repeats < 1) {
            throw new IllegalArgumentException("genTokens and repeats must be at least 1");
        }
        long t0 = System.nanoTime();
        try (Llama4Model model = Llama4Model.load(modelPath, options)) {
            long loadNanos = System.nanoTime() - t0;
            measure(model, prompt, Math.min(genTokens, 4)); // warm-up, not recorded
            List<Repeat> results = new ArrayList<>(repeats);
            for (int r = 0; r < repeats; r++) {
                results.add(measure(model, prompt, genTokens));
            }
            return new Result(modelPath, model.activations(), prompt.length, genTokens, loadNanos,
                    List.copyOf(results));
        }
    }

    private static Repeat measure(Llama4Model model, int[] prompt, int genTokens) {
        // A cache sized to this run, not the model's full context: nothing else is allocated or cleared.
        KvCache cache = new KvCache(model.config(), prompt.length + genTokens);
        // One batch for the whole prompt, as llama.cpp gets n_batch = prompt length.
        try (InferenceSession session = new InferenceSession(model, cache, Math.max(1, prompt.length))) {
            long start = System.nanoTime();
            float[] logits = session.ingest(prompt);
            long prefill = System.nanoTime() - start;
            int next = argmax(logits);
            long timeToFirstToken = System.nanoTime() - start;
            long decode = 0;
            for (int i = 1; i < genTokens; i++) {
                long s = System.nanoTime();
                logits = session.decode(next);
                decode += System.nanoTime() - s;
                next = argmax(logits);
            }
            return new Repeat(prefill, decode, timeToFirstToken, prompt.length, genTokens - 1);
        }
    }

    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
