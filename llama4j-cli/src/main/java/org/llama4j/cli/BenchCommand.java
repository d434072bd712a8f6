package org.llama4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import org.llama4j.bench.e2e.DecodeTraffic;
import org.llama4j.bench.e2e.Llama4jBench;
import org.llama4j.bench.e2e.MemoryBandwidthProbe;
import org.llama4j.bench.e2e.ProcessMemory;
import org.llama4j.bench.llamacpp.LlamaCpp;
import org.llama4j.bench.llamacpp.LlamaCppBench;
import org.llama4j.bench.llamacpp.LlamaCppBench.Repeat;
import org.llama4j.model.LoadOptions;
import org.llama4j.model.ModelInspection;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code llama4j bench}: load time, prefill and decode throughput, time to first token and peak memory of llama4j on
 * one model, optionally next to llama.cpp on the same GGUF in the same process, with a memory bandwidth probe and
 * the bytes of weights each decoded token reads (the decode roofline).
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Measures llama4j on a model: load time, prefill and decode tokens/s, time to first token and peak RSS, "
                    + "as median [min .. max] over --repeat passes after one unrecorded warm-up, each from an empty "
                    + "KV cache.",
            "",
            "The prompt is synthetic (BOS + pseudo-random ids, seed 42) and identical for llama.cpp; decode is "
                    + "greedy (the argmax is fed back); times are wall clock around the forward calls.",
            "",
            "With --compare-llamacpp, llama.cpp runs the same GGUF with the same settings in the same process and "
                    + "the ratios llama4j / llama.cpp are printed (install it with scripts/install-llamacpp.sh). "
                    + "A memory bandwidth probe and the weight bytes each decoded token reads give the decode "
                    + "roofline.",
            "",
            "Absolute numbers depend on the machine and its load: compare only numbers from the same run.",
            "",
        })
public final class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
            description = "A GGUF file or HF model folder (llama.cpp needs a GGUF).")
    Path model;

    @Option(names = "--prompt-tokens", defaultValue = "512", paramLabel = "N",
            description = "Prompt length, prefilled in one batch (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "128", paramLabel = "N",
            description = "Tokens generated per pass; the first comes from the prefill, the rest are decode steps "
                    + "(default: ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for both engines and the bandwidth probe (default: available processors).")
    Integer threads;

    @Option(names = "--repeat", defaultValue = "3", paramLabel = "N",
            description = "Measured passes after the warm-up (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--compare-llamacpp", description = "Also run llama.cpp on the same GGUF and print the ratios.")
    boolean compareLlamaCpp;

    @Option(names = "--bandwidth-mib", defaultValue = "2048", paramLabel = "MiB",
            description = "Buffer of the memory bandwidth probe; several times the last-level cache (server L3 reaches "
                    + "hundreds of MiB) "
                    + "(default: ${DEFAULT-VALUE}).")
    int bandwidthMib;

    @Option(names = "--no-bandwidth-probe", description = "Skip the bandwidth probe (no roofline then).")
    boolean noBandwidthProbe;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @CommandLine.Mixin
    ActivationsMixin activations;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Everything measured, for both output forms. */
    private record Report(ModelInspection inspection, int threads, int llama4jThreads, Llama4jBench.Result llama4j,
                          OptionalLong llama4jPeakRss, LlamaCppBench.Result llamaCpp, OptionalLong llamaCppPeakRss,
                          DecodeTraffic traffic, Bandwidth bandwidth) {
    }

    /** Bytes per second of the probe at 1 and {@code threads} threads; null when skipped. */
    private record Bandwidth(long bufferBytes, int threads, double oneThread, double allThreads) {
        double at(int n) {
            return n == 1 ? oneThread : allThreads;
        }
    }

    @Override
    public Integer call() throws Exception {
        LoadOptions loadOptions = activations.applyTo(LoadOptions.DEFAULTS); // flag conflicts first
        validate();
        if (compareLlamaCpp) {
            LlamaCpp.load(); // fail now, not after the llama4j half, when llama.cpp is not installed
        }
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        int llama4jThreads = KernelThreads.configure(n);
        if (llama4jThreads != n) {
            progress("warning: llama4j's kernel pool already runs %d thread(s) in this JVM; %d requested",
                    llama4jThreads, n);
        }
        ModelInspection inspection = ModelInspection.of(model);
        DecodeTraffic traffic = inspection.config() == null ? null : DecodeTraffic.of(inspection);
        int[] prompt = Llama4jBench.prompt(model, promptTokens);

        progress("llama4j: %s, %d prompt tokens, %d generated, %d thread(s), %s activations, warm-up + %d repeats",
                model, promptTokens, genTokens, llama4jThreads, ActivationsMixin.name(loadOptions.activations()),
                repeats);
        Llama4jBench.Result mine = Llama4jBench.run(model, loadOptions, prompt, genTokens, repeats);
        OptionalLong minePeak = ProcessMemory.peakResidentBytes();

        LlamaCppBench.Result peer = null;
        OptionalLong peerPeak = OptionalLong.empty();
        if (compareLlamaCpp) {
            System.gc(); // drop llama4j's heap before llama.cpp's peak is taken
            boolean reset = ProcessMemory.resetPeak();
            progress("llama.cpp: same prompt and settings, %d thread(s)", n);
            peer = LlamaCppBench.run(model, prompt, genTokens, n, repeats);
            peerPeak = reset ? ProcessMemory.peakResidentBytes() : OptionalLong.empty();
        }

        Bandwidth bandwidth = null;
        if (!noBandwidthProbe) {
            progress("memory bandwidth probe: %d MiB, 1 and %d thread(s)", bandwidthMib, n);
            MemoryBandwidthProbe probe = new MemoryBandwidthProbe(bandwidthMib * 1024L * 1024L);
            double one = probe.readBytesPerSecond(1, 3);
            double all = n == 1 ? one : probe.readBytesPerSecond(n, 3);
            bandwidth = new Bandwidth(probe.bytes(), n, one, all);
        }

        Report report = new Report(inspection, n, llama4jThreads, mine, minePeak, peer, peerPeak, traffic, bandwidth);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JSON.writeValueAsString(toJson(report)));
        } else {
            printText(out, report);
        }
        out.flush();
        return 0;
    }

    private void validate() {
        if (promptTokens < 1 || genTokens < 1 || repeats < 1 || (threads != null && threads < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--prompt-tokens, --gen-tokens, --repeat and --threads must be at least 1");
        }
        if (bandwidthMib < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--bandwidth-mib must be at least 1");
        }
        if (!Files.exists(model)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--model " + model + " does not exist");
        }
        if (compareLlamaCpp && Files.isDirectory(model)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--compare-llamacpp needs a GGUF file; " + model + " is a folder");
        }
    }

    /** Progress goes to stderr so stdout stays one JSON object (or the table). */
    private void progress(String format, Object... args) {
        PrintWriter err = spec.commandLine().getErr();
        err.printf(Locale.ROOT, "bench: " + format + "%n", args);
        err.flush();
    }

    // ---- JSON ----

    ObjectNode toJson(Report r) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", r.inspection().path().toString());
        root.put("format", r.inspection().format());
        root.put("model_bytes", r.inspection().bytesOnDisk());
        root.put("prompt_tokens", promptTokens);
        root.put("gen_tokens", genTokens);
        root.put("repeats", repeats);
        root.put("threads", r.threads());

        ObjectNode mine = engineJson(r.llama4j().loadNanos(), r.llama4j().repeats(), r.llama4jPeakRss());
        mine.put("threads", r.llama4jThreads());
        mine.put("activations", ActivationsMixin.name(r.llama4j().activations()));
        root.set("llama4j", mine);

        if (r.llamaCpp() != null) {
            LlamaCppBench.Result p = r.llamaCpp();
            ObjectNode peer = engineJson(p.loadNanos(), p.repeats(), r.llamaCppPeakRss());
            peer.put("threads", p.threads());
            peer.put("version", p.llamaCppVersion());
            peer.put("cpu_variant", p.cpuVariant());
            peer.put("description", p.modelDescription());
            root.set("llamacpp", peer);
        } else {
            root.putNull("llamacpp");
        }
        putNumber(root, "ratio_prefill", ratio(r, Repeat::prefillTokensPerSecond));
        putNumber(root, "ratio_decode", ratio(r, Repeat::decodeTokensPerSecond));
        putNumber(root, "ratio_time_to_first_token", ratio(r, x -> x.timeToFirstTokenNanos() / 1e6));
        putNumber(root, "ratio_load", r.llamaCpp() == null ? Double.NaN
                : (double) r.llama4j().loadNanos() / r.llamaCpp().loadNanos());

        if (r.traffic() != null) {
            DecodeTraffic t = r.traffic();
            ObjectNode traffic = root.putObject("decode_weight_bytes_per_token");
            traffic.put("total", t.total());
            traffic.put("attention", t.attention());
            traffic.put("routed_experts", t.routedExperts());
            traffic.put("shared_experts", t.sharedExperts());
            traffic.put("dense_ffn", t.denseFfn());
            traffic.put("routers", t.routers());
            traffic.put("embedding_row", t.embeddingRow());
            traffic.put("output_head", t.outputHead());
            traffic.put("other", t.other());
        } else {
            root.putNull("decode_weight_bytes_per_token");
        }

        if (r.bandwidth() != null) {
            Bandwidth b = r.bandwidth();
            ObjectNode bw = root.putObject("bandwidth");
            bw.put("buffer_bytes", b.bufferBytes());
            bw.put("threads", b.threads());
            putNumber(bw, "read_bytes_per_s_1_thread", b.oneThread());
            putNumber(bw, "read_bytes_per_s_n_threads", b.allThreads());
            ObjectNode roof = root.putObject("decode_roofline");
            putNumber(roof, "llama4j_percent", rooflinePercent(r, r.llama4j().repeats(), r.llama4jThreads()));
            putNumber(roof, "llamacpp_percent", r.llamaCpp() == null ? Double.NaN
                    : rooflinePercent(r, r.llamaCpp().repeats(), r.llamaCpp().threads()));
            putNumber(roof, "bound_tokens_per_s_1_thread", r.traffic() == null ? Double.NaN
                    : b.oneThread() / r.traffic().total());
            putNumber(roof, "bound_tokens_per_s_n_threads", r.traffic() == null ? Double.NaN
                    : b.allThreads() / r.traffic().total());
        } else {
            root.putNull("bandwidth");
            root.putNull("decode_roofline");
        }
        return root;
    }

    private ObjectNode engineJson(long loadNanos, List<Repeat> runs, OptionalLong peakRss) {
        ObjectNode e = JSON.createObjectNode();
        e.put("load_ms", loadNanos / 1e6);
        e.set("prefill_tokens_per_s", spread(runs, Repeat::prefillTokensPerSecond));
        e.set("decode_tokens_per_s", spread(runs, Repeat::decodeTokensPerSecond));
        e.set("time_to_first_token_ms", spread(runs, x -> x.timeToFirstTokenNanos() / 1e6));
        if (peakRss.isPresent()) {
            e.put("peak_rss_bytes", peakRss.getAsLong());
        } else {
            e.putNull("peak_rss_bytes");
        }
        var list = e.putArray("runs");
        for (Repeat x : runs) {
            ObjectNode run = list.addObject();
            run.put("prefill_ms", x.prefillNanos() / 1e6);
            run.put("decode_ms", x.decodeNanos() / 1e6);
            run.put("time_to_first_token_ms", x.timeToFirstTokenNanos() / 1e6);
            putNumber(run, "prefill_tokens_per_s", x.prefillTokensPerSecond());
            putNumber(run, "decode_tokens_per_s", x.decodeTokensPerSecond());
        }
        return e;
    }

    private static ObjectNode spread(List<Repeat> runs, ToDoubleFunction<Repeat> metric) {
        double[] s = sorted(runs, metric);
        ObjectNode o = JSON.createObjectNode();
        putNumber(o, "min", s.length == 0 ? Double.NaN : s[0]);
        putNumber(o, "median", median(s));
        putNumber(o, "max", s.length == 0 ? Double.NaN : s[s.length - 1]);
        return o;
    }

    /** JSON has no NaN: an undefined number (e.g. decode speed with --gen-tokens 1) is null. */
    private static void putNumber(ObjectNode o, String key, double value) {
        if (Double.isFinite(value)) {
            o.put(key, value);
        } else {
            o.putNull(key);
        }
    }

    // ---- numbers ----

    private static double[] sorted(List<Repeat> runs, ToDoubleFunction<Repeat> metric) {
        double[] s = runs.stream().mapToDouble(metric).toArray();
        Arrays.sort(s);
        return s;
    }

    private static double median(double[] s) {
        if (s.length == 0) {
            return Double.NaN;
        }
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double median(List<Repeat> runs, ToDoubleFunction<Repeat> metric) {
        return median(sorted(runs, metric));
    }

    /** llama4j / llama.cpp of the medians; NaN without llama.cpp. */
    private static double ratio(Report r, ToDoubleFunction<Repeat> metric) {
        if (r.llamaCpp() == null) {
            return Double.NaN;
        }
        return median(r.llama4j().repeats(), metric) / median(r.llamaCpp().repeats(), metric);
    }

    /** Median decode speed × weight bytes per token as a share of the probe's bandwidth at the engine's thread count. */
    private static double rooflinePercent(Report r, List<Repeat> runs, int engineThreads) {
        if (r.traffic() == null || r.bandwidth() == null) {
            return Double.NaN;
        }
        double bytesPerSecond = median(runs, Repeat::decodeTokensPerSecond) * r.traffic().total();
        return 100 * bytesPerSecond / r.bandwidth().at(engineThreads == 1 ? 1 : r.bandwidth().threads());
    }

    // ---- text ----

    private void printText(PrintWriter out, Report r) {
        out.printf(Locale.ROOT, "model     %s (%s, %s)%n", r.inspection().path(), r.inspection().format(),
                bytes(r.inspection().bytesOnDisk()));
        out.printf(Locale.ROOT, "settings  prompt %d tokens (synthetic, seed 42), %d generated (greedy), "
                + "%d repeats after 1 warm-up, median [min .. max]%n", promptTokens, genTokens, repeats);
        out.printf(Locale.ROOT, "threads   llama4j %d%s%n", r.llama4jThreads(),
                r.llamaCpp() == null ? "" : ", llama.cpp " + r.llamaCpp().threads());
        out.printf(Locale.ROOT, "llama4j   %s activations%n", ActivationsMixin.name(r.llama4j().activations()));
        if (r.llamaCpp() != null) {
            out.printf(Locale.ROOT, "llama.cpp %s, CPU backend %s%n", r.llamaCpp().llamaCppVersion(),
                    r.llamaCpp().cpuVariant());
        }
        out.println();
        boolean peer = r.llamaCpp() != null;
        String row = peer ? "%-22s %-30s %-30s %s%n" : "%-22s %s%n";
        if (peer) {
            out.printf(Locale.ROOT, row, "", "llama4j", "llama.cpp", "llama4j / llama.cpp");
        }
        List<Repeat> mine = r.llama4j().repeats();
        List<Repeat> theirs = peer ? r.llamaCpp().repeats() : List.of();
        line(out, row, "load", String.format(Locale.ROOT, "%.0f ms", r.llama4j().loadNanos() / 1e6),
                peer ? String.format(Locale.ROOT, "%.0f ms", r.llamaCpp().loadMillis()) : null,
                peer ? (double) r.llama4j().loadNanos() / r.llamaCpp().loadNanos() : Double.NaN);
        line(out, row, "prefill tokens/s", spreadText(mine, Repeat::prefillTokensPerSecond, "%.1f"),
                peer ? spreadText(theirs, Repeat::prefillTokensPerSecond, "%.1f") : null,
                ratio(r, Repeat::prefillTokensPerSecond));
        line(out, row, "decode tokens/s", spreadText(mine, Repeat::decodeTokensPerSecond, "%.2f"),
                peer ? spreadText(theirs, Repeat::decodeTokensPerSecond, "%.2f") : null,
                ratio(r, Repeat::decodeTokensPerSecond));
        line(out, row, "time to first token ms", spreadText(mine, x -> x.timeToFirstTokenNanos() / 1e6, "%.0f"),
                peer ? spreadText(theirs, x -> x.timeToFirstTokenNanos() / 1e6, "%.0f") : null,
                ratio(r, x -> x.timeToFirstTokenNanos() / 1e6));
        line(out, row, "peak RSS", rss(r.llama4jPeakRss()), peer ? rss(r.llamaCppPeakRss()) : null, Double.NaN);
        if (r.bandwidth() != null && r.traffic() != null) {
            line(out, row, "decode % of roofline",
                    String.format(Locale.ROOT, "%.1f%%", rooflinePercent(r, mine, r.llama4jThreads())),
                    peer ? String.format(Locale.ROOT, "%.1f%%", rooflinePercent(r, theirs, r.llamaCpp().threads()))
                            : null, Double.NaN);
        }
        out.println();
        if (r.traffic() != null) {
            DecodeTraffic t = r.traffic();
            out.printf(Locale.ROOT, "weights read per decoded token: %s (attention %s, routed experts %s, shared experts "
                    + "%s, dense FFN %s, routers %s, output head %s, embedding row %s, other %s)%n",
                    bytes(t.total()), bytes(t.attention()), bytes(t.routedExperts()), bytes(t.sharedExperts()),
                    bytes(t.denseFfn()), bytes(t.routers()), bytes(t.outputHead()), bytes(t.embeddingRow()),
                    bytes(t.other()));
        }
        if (r.bandwidth() != null) {
            Bandwidth b = r.bandwidth();
            out.printf(Locale.ROOT, "memory read bandwidth (%s buffer, best of 3): 1 thread %s/s, %d threads %s/s%n",
                    bytes(b.bufferBytes()), bytes((long) b.oneThread()), b.threads(), bytes((long) b.allThreads()));
        }
        if (r.llamaCpp() != null && r.llamaCppPeakRss().isPresent()) {
            out.println("peak RSS is per engine in this one process (the peak is reset between them); both include "
                    + "the JVM and the mapped weight pages that were touched");
        }
    }

    private static void line(PrintWriter out, String row, String label, String mine, String theirs, double ratio) {
        if (theirs == null) {
            out.printf(Locale.ROOT, row, label, mine);
        } else {
            out.printf(Locale.ROOT, row, label, mine, theirs,
                    Double.isFinite(ratio) ? String.format(Locale.ROOT, "%.2f", ratio) : "");
        }
    }

    private static String spreadText(List<Repeat> runs, ToDoubleFunction<Repeat> metric, String format) {
        double[] s = sorted(runs, metric);
        if (s.length == 0 || !Double.isFinite(median(s))) {
            return "n/a";
        }
        return String.format(Locale.ROOT, format + " [" + format + " .. " + format + "]", median(s), s[0],
                s[s.length - 1]);
    }

    private static String rss(OptionalLong bytes) {
        return bytes.isPresent() ? bytes(bytes.getAsLong()) : "n/a";
    }

    static String bytes(long b) {
        if (b >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        }
        if (b >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        }
        return b + " B";
    }
}
