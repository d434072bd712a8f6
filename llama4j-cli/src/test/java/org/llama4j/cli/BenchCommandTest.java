package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.bench.llamacpp.LlamaCpp;

/** The shape of {@code bench} output on a tiny generated model; never its timings (they are machine noise). */
class BenchCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Small enough to finish in seconds; the bandwidth buffer is then cache-sized, which is fine for the shape. */
    private static final List<String> QUICK = List.of("--prompt-tokens", "8", "--gen-tokens", "3", "--repeat", "2",
            "--threads", "1", "--bandwidth-mib", "1", "--json");

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void createTinyModel() {
        model = dir.resolve("tiny.gguf");
        CliRun created = CliRun.run("create-model", "--config", "tiny", "--type", "q8_0", "--seed", "5", "--quiet",
                "--vocab-size", "512", "--threads", "1", "--output", model.toString());
        assertThat(created.code()).as(created.err()).isZero();
    }

    private static JsonNode bench(String... extra) throws Exception {
        var args = new java.util.ArrayList<>(List.of("bench", "--model", model.toString()));
        args.addAll(QUICK);
        args.addAll(List.of(extra));
        CliRun run = CliRun.run(args.toArray(String[]::new));
        assertThat(run.code()).as(run.err()).isZero();
        return JSON.readTree(run.out()); // stdout is exactly one JSON object: progress goes to stderr
    }

    @Test
    void jsonHasEveryField() throws Exception {
        JsonNode r = bench();
        assertThat(r.get("model").asText()).isEqualTo(model.toString());
        assertThat(r.get("format").asText()).isEqualTo("gguf");
        assertThat(r.get("model_bytes").asLong()).isPositive();
        assertThat(r.get("prompt_tokens").asInt()).isEqualTo(8);
        assertThat(r.get("gen_tokens").asInt()).isEqualTo(3);
        assertThat(r.get("repeats").asInt()).isEqualTo(2);
        assertThat(r.get("threads").asInt()).isEqualTo(1);
        assertEngine(r.get("llama4j"));
        assertThat(r.get("llama4j").get("threads").asInt()).isPositive();
        assertThat(r.get("llama4j").get("activations").asText()).as("generation's default").isEqualTo("auto");
        assertThat(r.get("llamacpp").isNull()).isTrue();
        for (String ratio : List.of("ratio_prefill", "ratio_decode", "ratio_time_to_first_token", "ratio_load")) {
            assertThat(r.has(ratio)).as(ratio).isTrue();
            assertThat(r.get(ratio).isNull()).as(ratio + " without llama.cpp").isTrue();
        }
        JsonNode traffic = r.get("decode_weight_bytes_per_token");
        long sum = 0;
        for (String part : List.of("attention", "routed_experts", "shared_experts", "dense_ffn", "routers",
                "embedding_row", "output_head", "other")) {
            assertThat(traffic.get(part).isIntegralNumber()).as(part).isTrue();
            sum += traffic.get(part).asLong();
        }
        assertThat(traffic.get("total").asLong()).isEqualTo(sum).isPositive().isLessThan(r.get("model_bytes").asLong());
        JsonNode bw = r.get("bandwidth");
        assertThat(bw.get("buffer_bytes").asLong()).isEqualTo(1 << 20);
        assertThat(bw.get("threads").asInt()).isEqualTo(1);
        assertThat(bw.get("read_bytes_per_s_1_thread").asDouble()).isPositive();
        assertThat(bw.get("read_bytes_per_s_n_threads").asDouble()).isPositive();
        JsonNode roof = r.get("decode_roofline");
        assertThat(roof.get("llama4j_percent").asDouble()).isPositive();
        assertThat(roof.get("llamacpp_percent").isNull()).isTrue();
        assertThat(roof.get("bound_tokens_per_s_1_thread").asDouble()).isPositive();
        assertThat(roof.get("bound_tokens_per_s_n_threads").asDouble()).isPositive();
    }

    @Test
    void jsonReportsTheActivationModeThatRan() throws Exception {
        assertThat(bench("--activations", "q8").get("llama4j").get("activations").asText()).isEqualTo("q8");
        assertThat(bench("--exact").get("llama4j").get("activations").asText()).isEqualTo("exact");
    }

    @Test
    void compareLlamaCppAddsThePeerAndRatios() throws Exception {
        if (LlamaCpp.findLibraryDir().isEmpty()) {
            String msg = "llama.cpp is not installed (looked in " + LlamaCpp.candidateDirs() + "); "
                    + "install it with scripts/install-llamacpp.sh";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI=true but " + msg);
            }
            assumeTrue(false, "skipping: " + msg);
        }
        JsonNode r = bench("--compare-llamacpp");
        JsonNode peer = r.get("llamacpp");
        assertEngine(peer);
        assertThat(peer.get("threads").asInt()).isEqualTo(1);
        assertThat(peer.get("version").asText()).isNotBlank();
        assertThat(peer.get("cpu_variant").asText()).isNotBlank();
        for (String ratio : List.of("ratio_prefill", "ratio_decode", "ratio_time_to_first_token", "ratio_load")) {
            assertThat(r.get(ratio).asDouble()).as(ratio).isPositive();
        }
        assertThat(r.get("decode_roofline").get("llamacpp_percent").asDouble()).isPositive();
    }

    @Test
    void textOutputIsATable() {
        CliRun run = CliRun.run("bench", "--model", model.toString(), "--prompt-tokens", "4", "--gen-tokens", "2",
                "--repeat", "1", "--threads", "1", "--no-bandwidth-probe");
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("prefill tokens/s").contains("decode tokens/s").contains("time to first token")
                .contains("peak RSS").contains("weights read per decoded token").doesNotContain("roofline");
    }

    @Test
    void badArgumentsGiveOneClearLine() {
        CliRun missing = CliRun.run("bench", "--model", dir.resolve("nope.gguf").toString());
        assertThat(missing.code()).isNotZero();
        assertThat(missing.err()).contains("does not exist");
        CliRun zero = CliRun.run("bench", "--model", model.toString(), "--gen-tokens", "0");
        assertThat(zero.code()).isNotZero();
        assertThat(zero.err()).contains("must be at least 1");
    }

    private static void assertEngine(JsonNode e) {
        assertThat(e.get("load_ms").asDouble()).isPositive();
        for (String metric : List.of("prefill_tokens_per_s", "decode_tokens_per_s", "time_to_first_token_ms")) {
            JsonNode s = e.get(metric);
            assertThat(s.get("min").asDouble()).as(metric).isPositive();
            assertThat(s.get("median").asDouble()).as(metric).isBetween(s.get("min").asDouble(), s.get("max").asDouble());
        }
        assertThat(e.get("peak_rss_bytes").asLong()).isPositive();
        assertThat(e.get("runs")).hasSize(2);
        for (JsonNode run : e.get("runs")) {
            for (String f : List.of("prefill_ms", "decode_ms", "time_to_first_token_ms", "prefill_tokens_per_s",
                    "decode_tokens_per_s")) {
                assertThat(run.get(f).asDouble()).as(f).isPositive();
            }
        }
    }
}
