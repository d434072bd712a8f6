package org.llama4j.bench.llamacpp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llama4j.testing.Fixtures;

/**
 * llama.cpp through our binding on tiny-scout's BF16 GGUF against the Meta reference goldens. The tolerances come
 * from the fixture's own record of llama.cpp on this file ({@code llamacpp_crosscheck.BF16} in golden/index.json),
 * so a wrong struct layout, batch, position or logits row shows up as a failure, not as noise.
 */
class LlamaCppTinyScoutTest {
    private static Path dir;
    private static JsonNode index;
    private static LlamaCppModel model;
    private static LlamaCppContext ctx;

    @BeforeAll
    static void open() throws IOException {
        dir = Fixtures.require("llama4-tiny/tiny-scout");
        LlamaCpp cpp = LlamaCppTesting.requireLlamaCpp();
        index = new ObjectMapper().readTree(dir.resolve("golden/index.json").toFile());
        model = cpp.openModel(dir.resolve("tiny-scout.BF16.gguf"));
        // as the goldens were made: F32 KV cache, no flash attention. One thread, not the goldens' 2: ggml splits
        // matmuls by rows, so the numbers do not depend on it, and its spin-waiting thread barriers crawl when
        // a busy CI machine has fewer free cores than threads.
        ctx = model.newContext(ContextOptions.exact(128, 1));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void modelInfo() {
        assertThat(model.vocabSize()).isEqualTo(index.get("vocab_size").asInt()).isEqualTo(8192);
        assertThat(model.embeddingLength()).isEqualTo(64);
        assertThat(model.layerCount()).isEqualTo(4);
        assertThat(model.bosToken()).isEqualTo(6144);
        assertThat(model.description()).startsWith("llama4");
        assertThat(model.metadata("general.architecture")).contains("llama4");
        assertThat(model.metadata("no.such.key")).isEmpty();
        assertThat(model.trainedContextLength()).isPositive();
        assertThat(model.parameterCount()).isPositive();
        assertThat(ctx.contextLength()).isGreaterThanOrEqualTo(128);
        assertThat(ctx.threads()).isEqualTo(1);
    }

    /** 7 tokens (no chunk boundary): llama.cpp's semantics equal Meta's; every position is checked. */
    @Test
    void sevenTokenSequenceMatchesMetaReferenceAtEveryPosition() throws IOException {
        checkSequence(1, "logits_file");
    }

    /** 40 tokens cross tiny-scout's chunk of 16: llama.cpp hard-codes chunk 8192, so compare with that golden. */
    @Test
    void fortyTokenSequenceMatchesReferenceWithLlamaCppSemantics() throws IOException {
        checkSequence(2, "logits_llamacpp_semantics_file");
    }

    private void checkSequence(int id, String goldenFileKey) throws IOException {
        JsonNode seq = index.get("sequences").get(id);
        int[] tokens = ints(seq.get("tokens"));
        float[] golden = LlamaCppTesting.readFloats(dir.resolve("golden").resolve(seq.get(goldenFileKey).asText()));
        JsonNode recorded = index.at("/llamacpp_crosscheck/BF16/per_sequence/" + id + "/"
                + (goldenFileKey.equals("logits_file") ? "vs_true_semantics" : "vs_llamacpp_semantics"));
        double recordedMaxAbs = recorded.get("max_abs").asDouble();
        int n = tokens.length;
        int vocab = model.vocabSize();
        assertThat(golden).hasSize(n * vocab);

        ctx.reset();
        float[] logits = ctx.decode(tokens, true);
        assertThat(ctx.position()).isEqualTo(n);
        assertThat(logits).hasSize(n * vocab);

        double maxAbs = 0;
        int argmaxAgree = 0;
        for (int p = 0; p < n; p++) {
            for (int v = 0; v < vocab; v++) {
                maxAbs = Math.max(maxAbs, Math.abs(logits[p * vocab + v] - golden[p * vocab + v]));
            }
            if (LlamaCppTesting.argmax(logits, p * vocab, vocab) == LlamaCppTesting.argmax(golden, p * vocab, vocab)) {
                argmaxAgree++;
            }
        }
        // BF16 activations in llama.cpp's matmuls: ~1e-2 error, depending a little on the CPU variant's kernels
        assertThat(maxAbs).as("max |llama.cpp - reference| over %d positions (fixture recorded %.4f)", n, recordedMaxAbs)
                .isLessThanOrEqualTo(Math.max(2 * recordedMaxAbs, 0.02));
        assertThat((double) argmaxAgree / n).isGreaterThanOrEqualTo(recorded.get("argmax_agree").asDouble() - 0.05);
        int last = n - 1;
        assertThat(LlamaCppTesting.argmax(logits, last * vocab, vocab)).as("argmax at the last position")
                .isEqualTo(seq.at("/logits_positions").size() == n
                        ? LlamaCppTesting.argmax(golden, last * vocab, vocab) : -1);
    }

    /** Last-position logits only, then single-token steps: same numbers as the all-positions prefill. */
    @Test
    void incrementalDecodeAgreesWithFullPrefill() throws IOException {
        int[] tokens = ints(index.get("sequences").get(1).get("tokens"));
        int vocab = model.vocabSize();
        ctx.reset();
        float[] full = ctx.decode(tokens, true);

        ctx.reset();
        float[] last = ctx.decode(java.util.Arrays.copyOf(tokens, 4), false);
        assertThat(last).hasSize(vocab);
        assertClose(last, full, 3 * vocab, vocab, 1e-4);
        for (int p = 4; p < tokens.length; p++) {
            float[] step = ctx.decode(new int[] {tokens[p]}, false);
            assertClose(step, full, p * vocab, vocab, 2e-2);
            assertThat(ctx.argmax(-1)).isEqualTo(LlamaCppTesting.argmax(full, p * vocab, vocab));
        }
        assertThat(ctx.position()).isEqualTo(tokens.length);
    }

    @Test
    void rejectsTokensOutsideTheVocabularyAndAFullContext() {
        ctx.reset();
        assertThatThrownBy(() -> ctx.decode(new int[] {8192}, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("outside the vocabulary");
        assertThatThrownBy(() -> ctx.decode(new int[ctx.contextLength() + 1], false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("context full");
        assertThat(ctx.position()).isZero();
    }

    @Test
    void closingTheModelClosesItsContexts() {
        try (LlamaCppModel second = model.llamaCpp().openModel(model.path())) {
            LlamaCppContext c = second.newContext(ContextOptions.defaults(32, 1));
            c.decode(new int[] {6144, 100}, false);
            second.close();
            assertThatThrownBy(() -> c.decode(new int[] {1}, false)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(second::vocabSize).isInstanceOf(IllegalStateException.class);
            c.close(); // idempotent
        }
    }

    @Test
    void benchRunnerReportsEveryRepeat() {
        LlamaCppBench.Result r = LlamaCppBench.run(model.path(), 32, 8, 1, 3);
        assertThat(r.repeats()).hasSize(3);
        assertThat(r.cpuVariant()).isEqualTo(model.llamaCpp().cpuVariant());
        assertThat(r.loadNanos()).isPositive();
        for (LlamaCppBench.Repeat rep : r.repeats()) {
            assertThat(rep.promptTokens()).isEqualTo(32);
            assertThat(rep.generatedTokens()).isEqualTo(7);
            assertThat(rep.prefillTokensPerSecond()).isPositive().isFinite();
            assertThat(rep.decodeTokensPerSecond()).isPositive().isFinite();
            assertThat(rep.timeToFirstTokenNanos()).isGreaterThanOrEqualTo(rep.prefillNanos());
        }
        assertThat(r.medianPrefillTokensPerSecond()).isPositive();
        int[] prompt = LlamaCppBench.syntheticPrompt(6144, 8192, 32, 42);
        assertThat(prompt[0]).isEqualTo(6144);
        assertThat(prompt).isEqualTo(LlamaCppBench.syntheticPrompt(6144, 8192, 32, 42));
    }

    private static void assertClose(float[] actual, float[] expected, int offset, int n, double tol) {
        double max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(actual[i] - expected[offset + i]));
        }
        assertThat(max).as("max abs diff vs row at %d", offset / n).isLessThanOrEqualTo(tol);
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
