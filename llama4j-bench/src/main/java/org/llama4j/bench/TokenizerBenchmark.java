package org.llama4j.bench;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.GptBytePairEncodingParams;
import com.knuddels.jtokkit.api.IntArrayList;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.llama4j.tokenizer.SpecialTokens;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encode and decode throughput of llama4j's Llama 4 tokenizer against jtokkit configured with the same 200,000
 * ranks and Meta's pattern (translated for {@code java.util.regex}), on about 1 MB (UTF-8) of mixed text built
 * from the tokenizer goldens (English, code, CJK, emoji, many scripts, whitespace). One operation processes the
 * whole text, so ops/s × {@code textMegabytes} (printed at setup) is MB/s.
 *
 * <p>Run: {@code java -cp 'llama4j-bench/target/llama4j-bench.jar:llama4j-bench/target/lib/*'
 * --add-modules=jdk.incubator.vector org.openjdk.jmh.Main TokenizerBenchmark}. The vocabulary is
 * {@code -Dllama4j.tokenizer=PATH}, default {@code ../shared/fixtures/tokenizer/llama4/tokenizer.model}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
public class TokenizerBenchmark {
    private static final String WS = "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
            + "\\x{202F}\\x{205F}\\x{3000}";
    private static final String CONTRACTION = "(?:'[sS\\x{17F}]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    /** Meta's Llama 4 pattern with Rust-regex {@code \s} and {@code (?i:)} spelled out for java.util.regex. */
    static final Pattern LLAMA4_JAVA_PATTERN = Pattern.compile(
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" + CONTRACTION + "?"
            + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" + CONTRACTION + "?"
            + "|\\p{N}{1,3}| ?[^" + WS + "\\p{L}\\p{N}]+[\\r\\n/]*|[" + WS + "]*[\\r\\n]+|[" + WS + "]+(?![^" + WS + "])"
            + "|[" + WS + "]+");

    Tokenizer llama4j;
    Encoding jtokkit;
    String text;
    int[] ids;
    IntArrayList jtokkitIds;

    @Setup
    public void setup() throws IOException {
        Path model = Path.of(System.getProperty("llama4j.tokenizer", "../shared/fixtures/tokenizer/llama4/tokenizer.model"));
        llama4j = TokenizerLoader.load(model);
        Map<byte[], Integer> ranks = new HashMap<>();
        for (int id = 0; id < llama4j.rankCount(); id++) {
            ranks.put(llama4j.tokenBytes(id), id);
        }
        jtokkit = Encodings.newLazyEncodingRegistry().registerGptBytePairEncoding(
                new GptBytePairEncodingParams("llama4", LLAMA4_JAVA_PATTERN, ranks, Map.of()))
                .getEncoding("llama4").orElseThrow();
        text = mixedText(model.resolveSibling("../encode_cases.jsonl").normalize(), 1 << 20);
        ids = llama4j.encode(text, SpecialTokens.NONE);
        jtokkitIds = jtokkit.encodeOrdinary(text);
        System.out.printf("%ntextMegabytes=%.4f (UTF-8), ids=%d, jtokkit ids identical: %s%n",
                text.getBytes(StandardCharsets.UTF_8).length / 1e6, ids.length,
                Arrays.equals(ids, jtokkitIds.toArray()));
    }

    /** The goldens' texts (without the multi-thousand-character runs), repeated to about {@code bytes} of UTF-8. */
    static String mixedText(Path encodeCases, int bytes) throws IOException {
        ObjectMapper json = new ObjectMapper();
        StringBuilder unit = new StringBuilder();
        for (String line : Files.readAllLines(encodeCases)) {
            if (!line.isBlank()) {
                String t = json.readTree(line).get("text").asText();
                if (t.length() < 1000) {
                    unit.append(t).append('\n');
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        int unitBytes = unit.toString().getBytes(StandardCharsets.UTF_8).length;
        for (int total = 0; total + unitBytes <= bytes; total += unitBytes) {
            sb.append(unit);
        }
        return sb.toString();
    }

    @Benchmark
    public int[] encodeLlama4j() {
        return llama4j.encode(text, SpecialTokens.NONE);
    }

    @Benchmark
    public IntArrayList encodeJtokkit() {
        return jtokkit.encodeOrdinary(text);
    }

    @Benchmark
    public String decodeLlama4j() {
        return llama4j.decode(ids);
    }

    @Benchmark
    public String decodeJtokkit() {
        return jtokkit.decode(jtokkitIds);
    }
}
