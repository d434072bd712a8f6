package org.llama4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.llama4j.model.Llama4Config;
import org.llama4j.model.ModelInspection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code llama4j inspect}: what a checkpoint holds, as llama4j understood it. Reads headers only. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Shows a model's architecture and hyperparameters as llama4j understood them (layers,"
                + " experts, which layers are MoE / NoPE, chunk size, RoPE scaling, vocabulary), its tensors with"
                + " types and shapes, total and active-per-token parameter counts, and bytes on disk."})
public final class InspectCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL", description = "A GGUF file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Option(names = "--no-tensors", description = "Leave out the tensor list.")
    boolean noTensors;

    @Override
    public Integer call() throws Exception {
        ModelInspection m = ModelInspection.of(model);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JSON.writeValueAsString(toJson(m)));
        } else {
            printText(m, out);
        }
        out.flush();
        return 0;
    }

    ObjectNode toJson(ModelInspection m) {
        ObjectNode root = JSON.createObjectNode();
        root.put("path", m.path().toString());
        root.put("format", m.format());
        root.put("architecture", m.architecture());
        if (m.config() != null) {
            root.set("hyperparameters", JSON.valueToTree(m.config()));
        } else {
            root.putNull("hyperparameters");
            root.put("hyperparameters_error", m.configError());
        }
        ObjectNode params = root.putObject("parameters");
        params.put("total", m.totalParameters());
        params.put("active_per_token", m.activeParameters());
        params.put("vision", m.visionParameters());
        root.put("bytes_on_disk", m.bytesOnDisk());
        root.put("tensor_count", m.tensors().size());
        if (!noTensors) {
            ArrayNode tensors = root.putArray("tensors");
            for (ModelInspection.TensorEntry t : m.tensors()) {
                ObjectNode n = tensors.addObject();
                n.put("name", t.name());
                n.put("type", t.type());
                ArrayNode shape = n.putArray("shape");
                Arrays.stream(t.shape()).forEach(shape::add);
                n.put("bytes", t.bytes());
            }
        }
        return root;
    }

    private void printText(ModelInspection m, PrintWriter out) {
        out.printf("%s (%s, architecture %s)%n", m.path(), m.format(), m.architecture());
        Llama4Config c = m.config();
        if (c == null) {
            out.printf("  no model description: %s%n", m.configError());
        } else {
            out.printf("  layers               %d (MoE: %s; NoPE: %s)%n", c.layerCount(),
                    ModelInspection.layerList(c.moeLayers(), c.layerCount()), c.noRopeLayers());
            out.printf("  hidden size          %d%n", c.hiddenSize());
            out.printf("  attention heads      %d query, %d key/value, head dim %d%n", c.headCount(), c.kvHeadCount(),
                    c.headDim());
            if (!c.moeLayers().isEmpty()) {
                out.printf("  experts              %d routed (top-%d), expert FFN %d, plus a shared expert%n",
                        c.expertCount(), c.expertsPerToken(), c.expertFfnWidth());
            }
            if (c.denseFfnWidth() > 0 && c.moeLayers().size() < c.layerCount()) {
                out.printf("  dense FFN            %d%n", c.denseFfnWidth());
            }
            out.printf("  chunked attention    %s%n", c.attentionChunkSize() > 0
                    ? c.attentionChunkSize() + " tokens per chunk on RoPE layers" : "none (global causal attention)");
            out.printf("  QK-norm              %s%n", c.useQkNorm() ? "yes (RoPE layers)" : "no");
            out.printf(Locale.ROOT, "  temperature tuning   %s%n", c.attnTemperatureTuning()
                    ? String.format(Locale.ROOT, "floor_scale %.0f, attn_scale %s", c.floorScale(), c.attnScale())
                    : "off");
            out.printf(Locale.ROOT, "  RoPE                 theta %.0f, scaling %s%n", c.ropeTheta(),
                    c.ropeScaling() == null ? "none" : c.ropeScaling());
            out.printf("  vocabulary           %d%n", c.vocabSize());
            out.printf("  context length       %d%n", c.contextLength());
            out.printf(Locale.ROOT, "  RMSNorm eps          %s%n", c.rmsNormEps());
        }
        out.printf(Locale.ROOT, "  parameters           %s total, %s active per token%s%n", human(m.totalParameters()),
                human(m.activeParameters()), m.visionParameters() > 0
                        ? " (text), " + human(m.visionParameters()) + " vision" : "");
        out.printf(Locale.ROOT, "  bytes on disk        %s (%d)%n", humanBytes(m.bytesOnDisk()), m.bytesOnDisk());
        out.printf("  tensors              %d%n", m.tensors().size());
        if (!noTensors) {
            int width = m.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(10);
            for (ModelInspection.TensorEntry t : m.tensors()) {
                out.printf("    %-" + width + "s  %-8s %s%n", t.name(), t.type(), Arrays.toString(t.shape()));
            }
        }
    }

    static String human(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.2fM", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        }
        return Long.toString(n);
    }

    static String humanBytes(long n) {
        if (n >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, "%.2f MiB", n / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    }
}
