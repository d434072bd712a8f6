package org.llama4j.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.llama4j.format.ModelFormatException;

/**
 * The {@code quantization_config} of a compressed-tensors FP8 checkpoint (e.g. Llama 4 Maverick FP8): weights of
 * quantized Linear modules are F8_E4M3 with a {@code weight_scale} per output channel (or per tensor); modules
 * named by {@code ignore} keep their original dtype.
 *
 * <p>{@code ignore} holds module names; an entry starting with {@code re:} is a regular expression matched from the start
 * of the module name (Python {@code re.match}, as compressed-tensors does), others match exactly.
 */
public final class CompressedTensorsConfig {
    private static final Set<String> FORMATS = Set.of("float-quantized", "naive-quantized");
    private static final Set<String> STRATEGIES = Set.of("channel", "tensor");

    private final String format;
    private final List<String> ignore;
    private final Set<String> ignoredNames;
    private final List<Pattern> ignoredPatterns;

    public CompressedTensorsConfig(String format, List<String> ignore) {
        this.format = format;
        this.ignore = List.copyOf(ignore);
        this.ignoredNames = ignore.stream().filter(e -> !e.startsWith("re:")).collect(java.util.stream.Collectors.toSet());
        this.ignoredPatterns = ignore.stream().filter(e -> e.startsWith("re:")).map(e -> Pattern.compile(e.substring(3)))
                .toList();
    }

    public String format() {
        return format;
    }

    public List<String> ignore() {
        return ignore;
    }

    /** Parses and checks that the checkpoint is a kind llama4j reads: FP8 (E4M3) weights, per channel or tensor. */
    static CompressedTensorsConfig parse(Path configFile, JsonNode q) {
        String where = configFile + ": quantization_config";
        if (!q.isObject()) {
            throw new ModelFormatException(where + " must be an object, found " + q.getNodeType());
        }
        String method = q.path("quant_method").asText("");
        if (!method.equals("compressed-tensors")) {
            throw new ModelFormatException(where + ".quant_method \"" + method
                    + "\" is not supported (llama4j reads compressed-tensors FP8 checkpoints)");
        }
        String format = q.path("format").asText("float-quantized");
        if (!FORMATS.contains(format)) {
            throw new ModelFormatException(where + ".format \"" + format + "\" is not supported (expected one of "
                    + FORMATS + ": FP8 weights)");
        }
        JsonNode groups = q.path("config_groups");
        for (var group : groups.properties()) {
            JsonNode w = group.getValue().path("weights");
            if (w.isMissingNode() || w.isNull()) {
                continue;
            }
            String g = where + ".config_groups." + group.getKey() + ".weights";
            if (w.path("num_bits").asInt(8) != 8 || !w.path("type").asText("float").equals("float")) {
                throw new ModelFormatException(g + ": " + w.path("num_bits").asInt() + "-bit " + w.path("type").asText()
                        + " weights are not supported (llama4j reads 8-bit float, i.e. FP8 E4M3)");
            }
            String strategy = w.path("strategy").asText("channel");
            if (!STRATEGIES.contains(strategy)) {
                throw new ModelFormatException(g + ".strategy \"" + strategy + "\" is not supported (expected one of "
                        + STRATEGIES + ")");
            }
        }
        List<String> ignore = new ArrayList<>();
        JsonNode ig = q.path("ignore");
        if (!ig.isMissingNode() && !ig.isNull()) {
            if (!ig.isArray()) {
                throw new ModelFormatException(where + ".ignore must be an array of module names, found " + ig.getNodeType());
            }
            for (JsonNode n : ig) {
                if (!n.isTextual()) {
                    throw new ModelFormatException(where + ".ignore entries must be strings, found " + n);
                }
                if (n.textValue().startsWith("re:")) {
                    try {
                        Pattern.compile(n.textValue().substring(3));
                    } catch (PatternSyntaxException e) {
                        throw new ModelFormatException(where + ".ignore: bad regular expression " + n + ": "
                                + e.getDescription());
                    }
                }
                ignore.add(n.textValue());
            }
        }
        return new CompressedTensorsConfig(format, ignore);
    }

    /** Whether {@code module} (a tensor name without its {@code .weight} suffix) stays unquantized. */
    public boolean isIgnored(String module) {
        return ignoredNames.contains(module) || ignoredPatterns.stream().anyMatch(p -> p.matcher(module).lookingAt());
    }

    /** The module a weight tensor belongs to: its name without a trailing {@code .weight}. */
    public static String moduleOf(String tensorName) {
        return tensorName.endsWith(".weight") ? tensorName.substring(0, tensorName.length() - ".weight".length())
                : tensorName;
    }
}
