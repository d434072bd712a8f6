package org.llama4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.kernel.LinearMap;
import org.llama4j.model.Llama4Weights.MixtureOfExperts;
import org.llama4j.tensor.Fp8RowScaledTensor;
import org.llama4j.tensor.Tensor;
import org.llama4j.testing.Fixtures;

/**
 * FP8 checkpoints in the layout of the Llama-4-Maverick FP8 release (compressed-tensors, routed experts stored per
 * expert, per-output-row scales, ignored modules bf16) load through {@link Llama4Model#load} and stay within FP8's
 * rounding of the bf16 model. The FP8 folders are made here by quantizing bf16 weights (tiny-scout, tiny-maverick,
 * and a random model this test writes).
 *
 * <p>Two checks per FP8 model. Exactness: its logits equal, to float32 summation noise ({@link #EXACT_TOL}), those
 * of the same folder with every FP8 weight replaced by its dequantized F32 values. Error level against bf16, derived
 * from FP8's rounding: E4M3 keeps 3 mantissa bits, so each weight is within 2^-4 of itself (checked per value) and
 * the rms relative weight error {@code eps} is ≈ 2.5% (measured). Weight noise passes through each matrix product
 * at the same relative rms and compounds over the layers; the llama4-tiny README measures that gain for tiny-scout
 * from its Q8_0 and Q4_0 files (weight error ≈ 0.5% / 7.6% → logit rms error 0.017 / 0.26 on logits of rms ≈ 1,
 * a gain of ≈ 3.5). Top-1 routing over many experts adds expert flips (tiny-maverick: 128 experts). Measured rms
 * logit error / rms logit: random model 1.6·eps, tiny-scout 4.5·eps, tiny-maverick 8.3·eps; the bound is
 * {@link #GAIN_BOUND}·eps, and the argmax must agree at {@link #MIN_ARGMAX_AGREEMENT} of the positions (measured:
 * 0.98, 0.87, 0.71). A dropped or misapplied scale moves the logits by their own size (rms ratio ≈ 1).
 */
class Fp8CheckpointTest {
    /** Float32 summation order only: the README's engine tolerance against the reference. */
    private static final double EXACT_TOL = 1e-4;
    private static final double GAIN_BOUND = 12;
    private static final double MIN_ARGMAX_AGREEMENT = 0.6;

    @TempDir
    Path tmp;

    static Stream<String> fixtures() {
        return Stream.of("llama4-tiny/tiny-scout", "llama4-tiny/tiny-maverick");
    }

    /** The per-expert layout (what the FP8 release uses) with unquantized bf16 values gives Meta's reference logits. */
    @ParameterizedTest
    @MethodSource("fixtures")
    void perExpertLayoutGivesReferenceLogits(String model) throws IOException {
        Path src = Fixtures.require(model);
        Path split = tmp.resolve("split");
        HfCheckpoints.rewrite(src, split, null, true);
        try (HfModelFolder f = HfModelFolder.open(split)) {
            assertThat(f.tensorNames()).noneMatch(n -> n.endsWith("gate_up_proj"));
            assertThat(f.tensorNames()).contains("language_model.model.layers.1.feed_forward.experts.0.down_proj.weight");
        }
        JsonNode index = Goldens.index(src);
        try (Llama4Model m = Llama4Model.load(split)) {
            int vocab = m.config().vocabSize();
            for (JsonNode seq : index.get("sequences")) {
                int[] tokens = Goldens.ints(seq.get("tokens"));
                float[][] logits = m.newSession().ingestAll(tokens);
                float[] expected = Goldens.floats(src, seq.get("logits_file").asText());
                int[] positions = Goldens.ints(seq.get("logits_positions"));
                for (int i = 0; i < positions.length; i++) {
                    assertThat(Goldens.maxAbs(logits[positions[i]], expected, i * vocab))
                            .as("seq %d position %d", seq.get("id").asInt(), positions[i]).isLessThan(EXACT_TOL);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void fp8FixtureStaysWithinFp8RoundingOfBf16(String model) throws IOException {
        Path src = Fixtures.require(model);
        List<int[]> sequences = new ArrayList<>();
        for (JsonNode seq : Goldens.index(src).get("sequences")) {
            if (seq.get("length").asInt() > 1) {
                sequences.add(Goldens.ints(seq.get("tokens")));
            }
        }
        checkFp8AgainstBf16(src, HfCheckpoints.ALL_LINEAR, sequences);
    }

    /** A random model written by the test, quantized like the Maverick FP8 release: routed experts only. */
    @Test
    void randomModelQuantizedLikeTheMaverickRelease() throws IOException {
        Path src = tmp.resolve("random");
        HfCheckpoints.writeRandom(src, 20250405);
        java.util.Random r = new java.util.Random(7);
        List<int[]> sequences = new ArrayList<>();
        for (int len : new int[] {9, 33}) {
            sequences.add(r.ints(len, 0, 512).toArray());
        }
        Stats s = checkFp8AgainstBf16(src, HfCheckpoints.ROUTED_EXPERTS_ONLY, sequences);
        // 2 MoE layers × 8 experts × gate, up, down: nothing else
        assertThat(s.fp8Tensors).isEqualTo(48);
    }

    record Stats(int fp8Tensors, double eps, double rms, double maxAbs, double argmaxAgreement) {
    }

    private Stats checkFp8AgainstBf16(Path src, List<String> ignore, List<int[]> sequences) throws IOException {
        Path split = tmp.resolve("bf16-per-expert");
        Path fp8 = tmp.resolve("fp8");
        HfCheckpoints.rewrite(src, split, null, true);
        List<String> quantized = HfCheckpoints.rewrite(src, fp8, ignore, true);

        // Dequantization through the loader's tensors: every FP8 weight within E4M3 rounding of its bf16 value.
        double errSq = 0;
        double normSq = 0;
        try (HfModelFolder exact = HfModelFolder.open(split); HfModelFolder approx = HfModelFolder.open(fp8)) {
            for (String name : quantized) {
                Tensor t = approx.tensor(name);
                assertThat(t).as(name).isInstanceOf(Fp8RowScaledTensor.class);
                float[] a = t.toFloatArray();
                float[] e = exact.tensor(name).toFloatArray();
                int len = (int) t.rowLength();
                for (int row = 0; row < t.rowCount(); row++) {
                    float absMax = 0;
                    for (int i = row * len; i < (row + 1) * len; i++) {
                        absMax = Math.max(absMax, Math.abs(e[i]));
                    }
                    for (int i = row * len; i < (row + 1) * len; i++) {
                        // half an ulp of 3 mantissa bits, the subnormal step of the scale, the scale's bf16 rounding
                        double bound = Math.abs(e[i]) * (1.0 / 16 + 1.0 / 256) + absMax / 448 * 0x1p-9 * 1.01;
                        assertThat((double) Math.abs(a[i] - e[i])).as("%s[%d]", name, i).isLessThanOrEqualTo(bound);
                        errSq += (a[i] - e[i]) * (double) (a[i] - e[i]);
                        normSq += e[i] * (double) e[i];
                    }
                }
            }
            for (String name : approx.tensorNames()) {
                if (!quantized.contains(name) && !name.endsWith("_scale")) {
                    assertThat(approx.tensor(name).typeName()).as(name).isEqualTo("BF16");
                }
            }
        }
        double eps = Math.sqrt(errSq / normSq);
        assertThat(eps).as("rms relative weight error").isBetween(0.01, 0.04);

        // The FP8 path computes what float32 math on the dequantized weights computes (summation order only).
        Path dequantized = tmp.resolve("dequantized");
        HfCheckpoints.dequantizedCopy(fp8, dequantized);
        try (Llama4Model exact = Llama4Model.load(dequantized); Llama4Model model = Llama4Model.load(fp8)) {
            for (int[] tokens : sequences) {
                float[][] expected = exact.newSession().ingestAll(tokens);
                float[][] actual = model.newSession().ingestAll(tokens);
                for (int p = 0; p < tokens.length; p++) {
                    assertThat(Goldens.maxAbs(actual[p], expected[p], 0)).as("position %d", p).isLessThan(EXACT_TOL);
                }
            }
        }

        double diffSq = 0;
        double logitSq = 0;
        double maxAbs = 0;
        int agree = 0;
        int positions = 0;
        try (Llama4Model reference = Llama4Model.load(src); Llama4Model model = Llama4Model.load(fp8)) {
            MixtureOfExperts moe = model.weights().blocks().stream().map(Llama4Weights.Block::feedForward)
                    .filter(MixtureOfExperts.class::isInstance).map(MixtureOfExperts.class::cast).findFirst().orElseThrow();
            LinearMap.Stacked gateUp = (LinearMap.Stacked) moe.experts().getFirst().gateUp();
            assertThat(((LinearMap.RowsAreOutputs) gateUp.first()).tensor()).isInstanceOf(Fp8RowScaledTensor.class);
            assertThat(((LinearMap.RowsAreOutputs) moe.experts().getLast().down()).tensor())
                    .isInstanceOf(Fp8RowScaledTensor.class);
            for (int[] tokens : sequences) {
                float[][] exact = reference.newSession().ingestAll(tokens);
                float[][] approx = model.newSession().ingestAll(tokens);
                for (int p = 0; p < tokens.length; p++) {
                    for (int i = 0; i < exact[p].length; i++) {
                        double dlt = approx[p][i] - exact[p][i];
                        diffSq += dlt * dlt;
                        logitSq += exact[p][i] * (double) exact[p][i];
                        maxAbs = Math.max(maxAbs, Math.abs(dlt));
                    }
                    agree += Goldens.argmax(exact[p]) == Goldens.argmax(approx[p]) ? 1 : 0;
                    positions++;
                }
            }
        }
        Stats s = new Stats(quantized.size(), eps, Math.sqrt(diffSq / logitSq), maxAbs, agree / (double) positions);
        assertThat(s.rms).as("rms logit error / rms logit, eps %.4f", eps).isLessThan(GAIN_BOUND * eps);
        assertThat(s.argmaxAgreement).as("argmax agreement").isGreaterThanOrEqualTo(MIN_ARGMAX_AGREEMENT);
        return s;
    }

    @Test
    void missingExpertsAreNamed() throws IOException {
        Path src = tmp.resolve("random");
        HfCheckpoints.writeRandom(src, 1);
        Path noExperts = tmp.resolve("no-experts");
        HfCheckpoints.rewrite(src, noExperts, null, false, n -> n.startsWith("language_model.model.layers.3.feed_forward.experts."));
        assertThatThrownBy(() -> Llama4Model.load(noExperts)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("MoE layer 'language_model.model.layers.3.feed_forward.' has no routed experts")
                .hasMessageContaining("experts.gate_up_proj").hasMessageContaining("experts.7.down_proj.weight");

        Path oneMissing = tmp.resolve("one-missing");
        HfCheckpoints.rewrite(src, oneMissing, HfCheckpoints.ROUTED_EXPERTS_ONLY, true,
                n -> n.equals("language_model.model.layers.1.feed_forward.experts.5.up_proj.weight"));
        assertThatThrownBy(() -> Llama4Model.load(oneMissing)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("'language_model.model.layers.1.feed_forward.experts.5.up_proj.weight' is missing");
    }
}
