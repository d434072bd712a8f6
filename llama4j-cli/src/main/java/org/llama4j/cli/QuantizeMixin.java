package org.llama4j.cli;

import org.llama4j.model.LoadOptions;
import org.llama4j.model.synthetic.QuantRecipe.FileType;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --quantize TYPE}: quantize a Hugging Face folder's bf16 or FP8 weights while loading. */
final class QuantizeMixin {
    @Option(names = "--quantize", paramLabel = "TYPE", converter = FileTypeConverter.class,
            description = "Quantize a Hugging Face folder's bf16/FP8 weights while loading, with llama.cpp's recipe for "
                    + "the type: q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k(_s), q3_k_m, q3_k_l, q4_k(_s), q4_k_m, "
                    + "q5_k(_s), q5_k_m, q6_k, iq4_nl, iq4_xs (or f16, bf16, f32). Embeddings get the type, the output "
                    + "head q6_k (q8_0 for q8_0), routers and norms stay exact. Not for GGUF files.")
    FileType quantize;

    LoadOptions loadOptions() {
        return quantize == null ? LoadOptions.DEFAULTS : LoadOptions.quantizedTo(quantize);
    }

    static final class FileTypeConverter implements ITypeConverter<FileType> {
        @Override
        public FileType convert(String value) {
            try {
                return FileType.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
