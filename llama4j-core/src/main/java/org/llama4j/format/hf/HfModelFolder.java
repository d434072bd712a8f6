package org.llama4j.format.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.safetensors.SafetensorsDtype;
import org.llama4j.format.safetensors.SafetensorsFile;
import org.llama4j.format.safetensors.TensorInfo;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.Fp8RowScaledTensor;
import org.llama4j.tensor.Tensor;

/**
 * A Hugging Face model folder: {@code config.json}, the weights as one {@code model.safetensors} or as shards
 * listed by {@code model.safetensors.index.json}, and optionally tokenizer and preprocessor files.
 *
 * <p>Everything is validated on {@link #open}: the architecture is one llama4j supports, every shard exists, the
 * index and the shards agree exactly (no tensor missing, unlisted or duplicated), and in an FP8 checkpoint every
 * F8_E4M3 weight has a usable scale and belongs to a module the quantization config does not ignore. Tensors
 * are zero-copy views of the mapped files, valid until {@link #close()}.
 *
 * <p>Tensor names and layouts are exposed as stored. In particular Llama 4's fused expert tensors
 * {@code feed_forward.experts.gate_up_proj} {@code [E, D, 2F]} and {@code down_proj} {@code [E, F, D]} have no
 * {@code .weight} suffix and are input-major ({@code x @ W}); as 3-D tensors their ggml shapes are
 * {@code {2F, D, E}} and {@code {D, F, E}}.
 */
public final class HfModelFolder implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String SINGLE_WEIGHTS = "model.safetensors";
    public static final String WEIGHTS_INDEX = "model.safetensors.index.json";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path dir;
    private final JsonNode config;
    private final HfArchitecture architecture;
    private final JsonNode textConfig;
    private final CompressedTensorsConfig quantization;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> fileOf;

    private HfModelFolder(Path dir, JsonNode config, HfArchitecture architecture, JsonNode textConfig,
            CompressedTensorsConfig quantization, List<SafetensorsFile> files, Map<String, SafetensorsFile> fileOf) {
        this.dir = dir;
        this.config = config;
        this.architecture = architecture;
        this.textConfig = textConfig;
        this.quantization = quantization;
        this.files = files;
        this.fileOf = fileOf;
    }

    /** Opens and validates the folder; every problem with its files is a {@link ModelFormatException}. */
    public static HfModelFolder open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir + ": not a directory (expected a Hugging Face model folder)");
        }
        Path configFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new ModelFormatException(dir + ": no " + CONFIG + " (not a Hugging Face model folder?)");
        }
        JsonNode config = readJson(configFile);
        if (!config.isObject()) {
            throw new ModelFormatException(configFile + ": expected a JSON object, found " + config.getNodeType());
        }
        HfArchitecture architecture = architecture(configFile, config);
        JsonNode textConfig = architecture.textConfigOf(config);
        if (textConfig == null || !textConfig.isObject()) {
            throw new ModelFormatException(configFile + ": architecture " + architecture.hfName()
                    + " needs a \"text_config\" object, found " + (textConfig == null ? "none" : textConfig.getNodeType()));
        }
        JsonNode q = config.has("quantization_config") ? config.get("quantization_config")
                : textConfig.get("quantization_config");
        CompressedTensorsConfig quantization = q == null || q.isNull() ? null : CompressedTensorsConfig.parse(configFile, q);

        List<SafetensorsFile> files = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
            if (Files.exists(dir.resolve(SINGLE_WEIGHTS))) {
                SafetensorsFile f = SafetensorsFile.open(dir.resolve(SINGLE_WEIGHTS));
                files.add(f);
                f.tensorNames().forEach(n -> fileOf.put(n, f));
            } else if (Files.exists(dir.resolve(WEIGHTS_INDEX))) {
                openShards(dir, dir.resolve(WEIGHTS_INDEX), files, fileOf);
            } else {
                throw new ModelFormatException(dir + ": no weights: expected " + SINGLE_WEIGHTS + " or "
                        + WEIGHTS_INDEX);
            }
            HfModelFolder folder = new HfModelFolder(dir, config, architecture, textConfig, quantization,
                    List.copyOf(files), Collections.unmodifiableMap(fileOf));
            folder.validateQuantizedWeights();
            return folder;
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static JsonNode readJson(Path file) {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || n.isMissingNode()) {
                throw new ModelFormatException(file + ": empty file, expected JSON");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file + ": not valid JSON: " + e.getOriginalMessage() + " (line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")", e);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static HfArchitecture architecture(Path configFile, JsonNode config) {
        JsonNode archs = config.get("architectures");
        if (archs == null || !archs.isArray() || archs.isEmpty()) {
            throw new ModelFormatException(configFile + ": missing or empty \"architectures\" (supported: "
                    + HfArchitecture.supportedNames() + ")");
        }
        List<String> names = new ArrayList<>();
        for (JsonNode a : archs) {
            if (!a.isTextual()) {
                throw new ModelFormatException(configFile + ": \"architectures\" entries must be strings, found " + a);
            }
            Optional<HfArchitecture> known = HfArchitecture.fromHfName(a.textValue());
            if (known.isPresent()) {
                return known.get();
            }
            names.add(a.textValue());
        }
        throw new ModelFormatException(configFile + ": architecture " + String.join(", ", names)
                + " is not supported (supported: " + HfArchitecture.supportedNames() + ")");
    }

    /**
     * Opens the shards named by the index and checks that index and shards agree exactly, so that a tensor is
     * never silently taken from the wrong file or reported missing only when first used.
     */
    private static void openShards(Path dir, Path index, List<SafetensorsFile> files,
            Map<String, SafetensorsFile> fileOf) {
        JsonNode weightMap = readJson(index).get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new ModelFormatException(index + ": missing or non-object \"weight_map\"");
        }
        Map<String, String> shardOf = new LinkedHashMap<>();
        Map<String, List<String>> tensorsOfShard = new LinkedHashMap<>();
        for (var e : weightMap.properties()) {
            if (!e.getValue().isTextual() || e.getValue().textValue().isEmpty()) {
                throw new ModelFormatException(index + ": weight_map entry \"" + e.getKey()
                        + "\" must name a shard file, found " + e.getValue());
            }
            String shard = e.getValue().textValue();
            Path p;
            try {
                p = Path.of(shard);
            } catch (java.nio.file.InvalidPathException ex) {
                p = null;
            }
            if (p == null || p.isAbsolute() || p.getNameCount() != 1 || shard.equals("..") || shard.equals(".")) {
                throw new ModelFormatException(index + ": weight_map entry \"" + e.getKey() + "\" names \"" + shard
                        + "\", which is not a file name inside the model folder");
            }
            shardOf.put(e.getKey(), shard);
            tensorsOfShard.computeIfAbsent(shard, s -> new ArrayList<>()).add(e.getKey());
        }
        if (shardOf.isEmpty()) {
            throw new ModelFormatException(index + ": weight_map is empty");
        }
        Map<String, String> foundIn = new LinkedHashMap<>();
        for (var shardEntry : tensorsOfShard.entrySet()) {
            String shard = shardEntry.getKey();
            Path shardPath = dir.resolve(shard);
            if (!Files.isRegularFile(shardPath)) {
                List<String> listed = shardEntry.getValue();
                throw new ModelFormatException(index + ": shard \"" + shard + "\" (listed for \"" + listed.getFirst()
                        + "\"" + (listed.size() > 1 ? " and " + (listed.size() - 1) + " other tensors" : "")
                        + ") does not exist in " + dir);
            }
            SafetensorsFile f = SafetensorsFile.open(shardPath);
            files.add(f);
            for (String name : f.tensorNames()) {
                String earlier = foundIn.putIfAbsent(name, shard);
                if (earlier != null) {
                    throw new ModelFormatException(index + ": tensor \"" + name + "\" is stored in both \"" + earlier
                            + "\" and \"" + shard + "\"");
                }
                String listed = shardOf.get(name);
                if (listed == null) {
                    throw new ModelFormatException(index + ": tensor \"" + name + "\" is stored in \"" + shard
                            + "\" but missing from weight_map");
                }
                if (!listed.equals(shard)) {
                    throw new ModelFormatException(index + ": weight_map puts tensor \"" + name + "\" in \"" + listed
                            + "\", but it is stored in \"" + shard + "\"");
                }
                fileOf.put(name, f);
            }
        }
        for (var e : shardOf.entrySet()) {
            if (!foundIn.containsKey(e.getKey())) {
                throw new ModelFormatException(index + ": weight_map lists tensor \"" + e.getKey() + "\" in \""
                        + e.getValue() + "\", but that shard has no such tensor");
            }
        }
    }

    /** Resolves every F8_E4M3 tensor once, so a checkpoint with a missing or unusable scale fails at open. */
    private void validateQuantizedWeights() {
        for (var e : fileOf.entrySet()) {
            if (e.getValue().info(e.getKey()).dtype() == SafetensorsDtype.F8_E4M3) {
                tensor(e.getKey());
            }
        }
    }

    public Path dir() {
        return dir;
    }

    /** The whole {@code config.json}. */
    public JsonNode config() {
        return config;
    }

    public HfArchitecture architecture() {
        return architecture;
    }

    /** The text model's settings: {@code text_config} for Llama 4 multimodal checkpoints, else the top level. */
    public JsonNode textConfig() {
        return textConfig;
    }

    /** {@code vision_config}, where the checkpoint has a vision tower. */
    public Optional<JsonNode> visionConfig() {
        return Optional.ofNullable(config.get("vision_config")).filter(JsonNode::isObject);
    }

    /** The compressed-tensors quantization settings of an FP8 checkpoint. */
    public Optional<CompressedTensorsConfig> quantization() {
        return Optional.ofNullable(quantization);
    }

    /** The safetensors files holding the weights (one, or the shards in index order). */
    public List<Path> weightFiles() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    public Optional<Path> tokenizerJson() {
        return file("tokenizer.json");
    }

    public Optional<Path> tokenizerConfigJson() {
        return file("tokenizer_config.json");
    }

    public Optional<Path> preprocessorConfigJson() {
        return file("preprocessor_config.json");
    }

    public Optional<Path> generationConfigJson() {
        return file("generation_config.json");
    }

    /** {@code dir/name} when that file exists. */
    public Optional<Path> file(String name) {
        Path p = dir.resolve(name);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /** Every tensor name of every weight file (including FP8 scales), in file and header order. */
    public Set<String> tensorNames() {
        return fileOf.keySet();
    }

    public boolean contains(String hfName) {
        return fileOf.containsKey(hfName);
    }

    /** The safetensors header entry of a tensor (dtype, shape in both orders, file offsets). */
    public TensorInfo info(String hfName) {
        return holder(hfName, "").info(hfName);
    }

    /** The safetensors file holding a tensor. */
    public Path fileOf(String hfName) {
        return holder(hfName, "").path();
    }

    /**
     * A tensor by its Hugging Face name, in ggml shape order: a {@link BlockTensor} for F32/F16/BF16 data, an
     * {@link Fp8RowScaledTensor} for an F8_E4M3 weight (combined with its {@code <name>_scale} tensor).
     */
    public Tensor tensor(String hfName) {
        SafetensorsFile f = holder(hfName, "");
        TensorInfo info = f.info(hfName);
        if (info.dtype() != SafetensorsDtype.F8_E4M3) {
            return f.tensor(hfName);
        }
        String where = f.path() + ": F8_E4M3 tensor \"" + hfName + "\"";
        if (quantization == null) {
            throw new ModelFormatException(where + ": " + dir.resolve(CONFIG) + " has no quantization_config");
        }
        String module = CompressedTensorsConfig.moduleOf(hfName);
        if (quantization.isIgnored(module)) {
            throw new ModelFormatException(where + ": module \"" + module
                    + "\" is in quantization_config.ignore, so it should not be quantized");
        }
        String scaleName = hfName + "_scale";
        SafetensorsFile sf = holder(scaleName, " (the scale of F8_E4M3 tensor \"" + hfName + "\")");
        TensorInfo scaleInfo = sf.info(scaleName);
        if (scaleInfo.dtype().ggmlType().isEmpty()) {
            throw new ModelFormatException(sf.path() + ": scale \"" + scaleName + "\" has dtype " + scaleInfo.dtype()
                    + ", expected F32, BF16 or F16");
        }
        long[] shape = info.shape();
        long rows = shape.length == 0 || shape[shape.length - 1] == 0 ? 0 : info.elementCount() / shape[shape.length - 1];
        long scales = scaleInfo.elementCount();
        if (scales != 1 && scales != rows) {
            throw new ModelFormatException(where + ": scale \"" + scaleName + "\" has shape "
                    + java.util.Arrays.toString(scaleInfo.shape()) + " (" + scales + " values), expected one per row ("
                    + rows + ", e.g. shape [" + rows + ", 1]) or one for the tensor; block-wise FP8 is not supported");
        }
        return new Fp8RowScaledTensor(hfName, info.ggmlShape(), f.rawData(hfName), (BlockTensor) sf.tensor(scaleName));
    }

    /** Like {@link #tensor} but empty when the folder has no tensor of that name (e.g. tied {@code lm_head}). */
    public Optional<Tensor> findTensor(String hfName) {
        return contains(hfName) ? Optional.of(tensor(hfName)) : Optional.empty();
    }

    private SafetensorsFile holder(String hfName, String role) {
        SafetensorsFile f = fileOf.get(hfName);
        if (f == null) {
            throw new ModelFormatException(dir + ": no tensor \"" + hfName + "\"" + role + " in "
                    + weightFiles().stream().map(p -> p.getFileName().toString()).toList());
        }
        return f;
    }

    /** Unmaps every weight file. */
    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "HfModelFolder[" + dir + ", " + architecture.hfName() + ", " + fileOf.size() + " tensors in "
                + files.size() + " file(s)" + (quantization != null ? ", FP8" : "") + "]";
    }
}
