package org.llama4j.bench.llamacpp;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Prefill and decode throughput of llama.cpp on a GGUF, measured the way llama4j is measured so the two can be
 * printed side by side: prefill = one {@code llama_decode} of N prompt tokens; decode = M single-token steps,
 * each feeding back the argmax of the previous step; times are wall clock around the decode calls only
 * (llama.cpp's decode + synchronize), never around logits copies or argmax. Each repeat starts from an empty
 * KV cache; one unrecorded warm-up pass comes first (first-touch of mmapped weights, thread pool start).
 */
public final class LlamaCppBench {
    private LlamaCppBench() {
    }

    /** One measured pass. */
    public record Repeat(long prefillNanos, long decodeNanos, long timeToFirstTokenNanos, int promptTokens,
                         int generatedTokens) {
        public double prefillTokensPerSecond() {
            return promptTokens * 1e9 / prefillNanos;
        }

        /** Single-token steps per second; NaN when no tokens were generated after the first. */
        public double decodeTokensPerSecond() {
            return generatedTokens == 0 ? Double.NaN : generatedTokens * 1e9 / decodeNanos;
        }
    }

    /**
     * @param loadNanos model load ({@code llama_model_load_from_file}) + context creation, once per run
     * @param cpuVariant which ggml CPU backend ran (e.g. {@code haswell} = AVX2)
     */
    public record Result(Path model, String modelDescription, String llamaCppVersion, String cpuVariant,
                         int promptTokens, int genTokens, int threads, long loadNanos, List<Repeat> repeats) {
        public double medianPrefillTokensPerSecond() {
            return median(repeats.stream().mapToDouble(Repeat::prefillTokensPerSecond).toArray());
        }

        public double medianDecodeTokensPerSecond() {
            return median(repeats.stream().mapToDouble(Repeat::decodeTokensPerSecond).toArray());
        }

        public double medianTimeToFirstTokenMillis() {
            return median(repeats.stream().mapToDouble(r -> r.timeToFirstTokenNanos() / 1e6).toArray());
        }

        public double loadMillis() {
            return loadNanos / 1e6;
        }

        private static double median(double[] xs) {
            if (xs.length == 0) {
                return Double.NaN;
            }
            double[] s = xs.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }
    }

    /**
     * The benchmark prompt: BOS then pseudo-random ids below {@code min(vocabSize, 1 << 15)} from a fixed seed, so
     * llama4j can feed the identical tokens (MoE routing, hence speed, depends on them).
     */
    public static int[] syntheticPrompt(int bosToken, int vocabSize, int length, long seed) {
        if (length <= 0) {
            throw new IllegalArgumentException("prompt length must be positive");
        }
        SplittableRandom random = new SplittableRandom(seed);
        int bound = Math.min(vocabSize, 1 << 15);
        int[] prompt = new int[length];
        prompt[0] = bosToken >= 0 && bosToken < vocabSize ? bosToken : 0;
        for (int i = 1; i < length; i++) {
            prompt[i] = random.nextInt(bound);
        }
        return prompt;
    }

    /** {@link #run(Path, int[], int, int, int)} with {@link #syntheticPrompt} of {@code promptTokens} tokens (seed 42). */
    public static Result run(Path gguf, int promptTokens, int genTokens, int threads, int repeats) {
        LlamaCpp cpp = LlamaCpp.load();
        int[] prompt;
        try (LlamaCppModel vocab = cpp.openVocab(gguf)) {
            prompt = syntheticPrompt(vocab.bosToken(), vocab.vocabSize(), promptTokens, 42);
        }
        return run(gguf, prompt, genTokens, threads, repeats);
    }

    /**
     * Loads {@code gguf} with llama.cpp, then {@code repeats} times: prefill {@code prompt} in one call, then
     * {@code genTokens - 1} single-token steps (the prefill yields the first token). Context: llama.cpp's defaults
     * (F16 KV cache, flash attention auto) sized to the prompt plus the generated tokens.
     */
    public static Result run(Path gguf, int[] prompt, int genTokens, int threads, int repeats) {
        if (genTokens < 1 || threads < 1 || repeats < 1) {
            throw new IllegalArgumentException("genTokens, threads and repeats must be at least 1");
        }
        int contextLength = prompt.length + genTokens;
        ContextOptions options = ContextOptions.defaults(contextLength, threads).withBatchSizes(prompt.length,
                Math.min(512, prompt.length));
        return run(gguf, prompt, genTokens, options, repeats);
    }

    /** As {@link #run(Path, int[], int, int, int)} with explicit context options (batch size ≥ prompt length). */
    public static Result run(Path gguf, int[] prompt, int genTokens, ContextOptions options, int repeats) {
        LlamaCpp cpp = LlamaCpp.load();
        long t0 = System.nanoTime();
        try (LlamaCppModel model = cpp.openModel(gguf);
             LlamaCppContext ctx = model.newContext(options)) {
            long loadNanos = System.nanoTime() - t0;
            measure(ctx, prompt, Math.min(genTokens, 4)); // warm-up, not recorded
            List<Repeat> results = new ArrayList<>(repeats);
            for (int r = 0; r < repeats; r++) {
                results.add(measure(ctx, prompt, genTokens));
            }
            return new Result(model.path(), model.description(), cpp.version(), cpp.cpuVariant(), prompt.length,
                    genTokens, options.threads(), loadNanos, List.copyOf(results));
        }
    }

    private static Repeat measure(LlamaCppContext ctx, int[] prompt, int genTokens) {
        ctx.reset();
        long start = System.nanoTime();
        ctx.evaluate(prompt, false);
        long prefill = ctx.lastEvaluateNanos();
        int next = ctx.argmax(-1);
        long timeToFirstToken = System.nanoTime() - start;
        long decode = 0;
        int[] one = new int[1];
        for (int i = 1; i < genTokens; i++) {
            one[0] = next;
            ctx.evaluate(one, false);
            decode += ctx.lastEvaluateNanos();
            next = ctx.argmax(-1);
        }
        return new Repeat(prefill, decode, timeToFirstToken, prompt.length, genTokens - 1);
    }
}
