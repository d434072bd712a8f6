package org.llama4j.model.synthetic;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.llama4j.tensor.GgmlType;

/**
 * Which ggml type each tensor of a Llama 4 GGUF gets for a file type: the same choices as llama.cpp's converter
 * ({@code convert_hf_to_gguf.py}) for the float types and as {@code llama_model_quantize} with its default recipe
 * (no imatrix, no overrides) for the quantized types, so a generated file has the tensor types a user would get
 * from llama.cpp's own tools.
 *
 * <ul>
 *   <li>1-D tensors (norms, {@code rope_freqs}) and the MoE router {@code ffn_gate_inp} are always F32.</li>
 *   <li>{@code output.weight}: Q6_K for every quantized type except Q8_0 (Q8_0 when the rows are not a whole
 *       number of the file type's blocks).</li>
 *   <li>The mixes of llama.cpp's {@code llama_tensor_get_type}: e.g. Q4_K_M puts {@code attn_v} and
 *       {@code ffn_down*} of the first and last eighth of the layers and every third layer between in Q6_K;
 *       Q2_K uses Q3_K for {@code ffn_down*}/{@code attn_output} and Q3_K/Q4_K for {@code attn_v}; IQ4_NL/IQ4_XS
 *       use Q5_K for the first eighth of {@code ffn_down*} and for {@code attn_v} with 4+ query heads per KV head.</li>
 *   <li>Rows that are not a multiple of the chosen type's block (256 for K-quants and IQ4_XS) fall back the way
 *       llama.cpp does: Q2_K/Q3_K/IQ4_XS to IQ4_NL, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, then F16 if even the
 *       32-block type does not fit.</li>
 * </ul>
 */
public final class QuantRecipe {

    /** The file types {@code create-model --type} accepts, with llama.cpp's {@code llama_ftype} ids. */
    public enum FileType {
        F32(0, GgmlType.F32),
        F16(1, GgmlType.F16),
        BF16(32, GgmlType.BF16),
        Q8_0(7, GgmlType.Q8_0),
        Q4_0(2, GgmlType.Q4_0),
        Q4_1(3, GgmlType.Q4_1),
        Q5_0(8, GgmlType.Q5_0),
        Q5_1(9, GgmlType.Q5_1),
        Q2_K(10, GgmlType.Q2_K),
        /** Also accepted as {@code q3_k}: the uniform Q3_K recipe. */
        Q3_K_S(11, GgmlType.Q3_K, "q3_k"),
        Q3_K_M(12, GgmlType.Q3_K),
        Q3_K_L(13, GgmlType.Q3_K),
        /** Also accepted as {@code q4_k}. */
        Q4_K_S(14, GgmlType.Q4_K, "q4_k"),
        Q4_K_M(15, GgmlType.Q4_K),
        /** Also accepted as {@code q5_k}. */
        Q5_K_S(16, GgmlType.Q5_K, "q5_k"),
        Q5_K_M(17, GgmlType.Q5_K),
        Q6_K(18, GgmlType.Q6_K),
        IQ4_NL(25, GgmlType.IQ4_NL),
        IQ4_XS(30, GgmlType.IQ4_XS);

        private final int llamaFtype;
        private final GgmlType baseType;
        private final String alias;

        FileType(int llamaFtype, GgmlType baseType) {
            this(llamaFtype, baseType, null);
        }

        FileType(int llamaFtype, GgmlType baseType, String alias) {
            this.llamaFtype = llamaFtype;
            this.baseType = baseType;
            this.alias = alias;
        }

        /** {@code general.file_type}: llama.cpp's {@code llama_ftype}. */
        public int llamaFtype() {
            return llamaFtype;
        }

        /** The type most weight matrices get. */
        public GgmlType baseType() {
            return baseType;
        }

        public boolean isQuantized() {
            return this != F32 && this != F16 && this != BF16;
        }

        /** The name on the command line and in file names, e.g. {@code q4_k_m}. */
        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses a {@code --type} value (case-insensitive; {@code q3_k}/{@code q4_k}/{@code q5_k} mean the _S recipes). */
        public static FileType parse(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            for (FileType f : values()) {
                if (f.cliName().equals(t) || t.equals(f.alias)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown model type '" + text + "'; expected one of " + cliNames());
        }

        /** Every accepted name, aliases included. */
        public static List<String> cliNames() {
            List<String> names = new ArrayList<>();
            for (FileType f : values()) {
                names.add(f.cliName());
                if (f.alias != null) {
                    names.add(f.alias);
                }
            }
            return names;
        }
    }

    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    private final FileType fileType;
    private final int layerCount;
    private final int expertCount;
    private final int queriesPerKvHead;

    public QuantRecipe(FileType fileType, SyntheticModelConfig config) {
        this(fileType, config.layerCount(), config.expertCount(), config.headCount() / config.kvHeadCount());
    }

    /** The recipe for a model of {@code layerCount} blocks, {@code expertCount} experts (0: dense) and GQA ratio. */
    public QuantRecipe(FileType fileType, int layerCount, int expertCount, int queriesPerKvHead) {
        this.fileType = java.util.Objects.requireNonNull(fileType, "fileType");
        this.layerCount = layerCount;
        this.expertCount = expertCount;
        this.queriesPerKvHead = queriesPerKvHead;
    }

    public FileType fileType() {
        return fileType;
    }

    /** The ggml type of tensor {@code name} with ggml-order {@code shape} ({@code shape[0]} = row length). */
    public GgmlType typeFor(String name, long[] shape) {
        if (!isWeightMatrix(name, shape)) {
            return GgmlType.F32;
        }
        if (!fileType.isQuantized()) {
            return fileType.baseType();
        }
        GgmlType chosen = mixedType(name, shape[0]);
        return fallbackForRowLength(chosen, shape[0]);
    }

    /**
     * What the converter writes in the file type and llama.cpp's quantizer touches: 2-D+ {@code .weight} tensors,
     * except norms and the MoE router (kept in F32 by both).
     */
    static boolean isWeightMatrix(String name, long[] shape) {
        return name.endsWith("weight") && shape.length >= 2 && !name.endsWith("_norm.weight")
                && !name.contains("ffn_gate_inp.weight");
    }

    /** llama.cpp's {@code llama_tensor_get_type}, the branches that apply to Llama 4 and the supported types. */
    private GgmlType mixedType(String name, long rowLength) {
        GgmlType base = fileType.baseType();
        if (name.equals("output.weight")) {
            if (rowLength % base.blockSize() != 0) {
                return GgmlType.Q8_0;
            }
            return base == GgmlType.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
        }
        if (name.equals("token_embd.weight")) {
            return base;
        }
        if (name.contains("attn_v.weight")) {
            return attnVType(layerOf(name));
        }
        if (name.contains("attn_k.weight")) {
            return expertCount == 8 ? GgmlType.Q8_0 : base;
        }
        if (name.contains("ffn_down")) {
            return ffnDownType(layerOf(name));
        }
        if (name.contains("attn_output.weight")) {
            return attnOutputType();
        }
        return base;
    }

    private GgmlType attnVType(int layer) {
        GgmlType t = fileType.baseType();
        switch (fileType) {
            case Q2_K -> t = queriesPerKvHead >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            case Q3_K_M -> t = layer < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            case Q3_K_L -> t = GgmlType.Q5_K;
            case IQ4_NL, IQ4_XS -> {
                if (queriesPerKvHead >= 4) {
                    t = GgmlType.Q5_K;
                }
            }
            case Q4_K_M, Q5_K_M -> {
                if (useMoreBits(layer, layerCount)) {
                    t = GgmlType.Q6_K;
                }
            }
            case Q4_K_S -> {
                if (layer < 4) {
                    t = GgmlType.Q5_K;
                }
            }
            default -> {
            }
        }
        // llama.cpp: "for the 8-expert model, bumping this to Q8_0 trades just ~128MB"
        return expertCount == 8 ? GgmlType.Q8_0 : t;
    }

    private GgmlType ffnDownType(int layer) {
        GgmlType base = fileType.baseType();
        return switch (fileType) {
            case Q2_K -> GgmlType.Q3_K;
            case Q3_K_M -> layer < layerCount / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
            case Q3_K_L -> GgmlType.Q5_K;
            case Q4_K_M, Q5_K_M -> useMoreBits(layer, layerCount) ? GgmlType.Q6_K : base;
            case IQ4_NL, IQ4_XS -> layer < layerCount / 8 ? GgmlType.Q5_K : base;
            case Q4_K_S -> layer < layerCount / 8 ? GgmlType.Q5_K : base;
            default -> base;
        };
    }

    private GgmlType attnOutputType() {
        if (expertCount == 8) {
            return switch (fileType) {
                case Q2_K, Q3_K_S, Q3_K_M, IQ4_NL, Q4_K_S, Q4_K_M, IQ4_XS -> GgmlType.Q5_K;
                default -> fileType.baseType();
            };
        }
        return switch (fileType) {
            case Q2_K -> GgmlType.Q3_K;
            case Q3_K_M -> GgmlType.Q4_K;
            case Q3_K_L -> GgmlType.Q5_K;
            default -> fileType.baseType();
        };
    }

    /** llama.cpp's {@code use_more_bits}: the first and last eighth of the layers and every third between. */
    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /** llama.cpp's fallback for tensors whose rows are not a whole number of the chosen type's blocks. */
    static GgmlType fallbackForRowLength(GgmlType chosen, long rowLength) {
        if (rowLength % chosen.blockSize() == 0) {
            return chosen;
        }
        GgmlType fallback = switch (chosen) {
            case Q2_K, Q3_K, IQ4_XS -> GgmlType.IQ4_NL;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> throw new IllegalArgumentException("rows of " + rowLength + " values are not a multiple of the "
                    + chosen + " block size " + chosen.blockSize() + " and llama.cpp has no fallback for " + chosen);
        };
        return rowLength % fallback.blockSize() == 0 ? fallback : GgmlType.F16;
    }

    private int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        if (!m.find()) {
            throw new IllegalArgumentException("tensor '" + name + "' has no block index");
        }
        return Integer.parseInt(m.group(1));
    }

    @Override
    public String toString() {
        return "QuantRecipe[" + fileType.cliName() + ", layers " + layerCount + ", experts " + expertCount
                + ", gqa " + queriesPerKvHead + "]";
    }
}
