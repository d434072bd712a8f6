package org.llama4j.format.safetensors;

import java.util.Optional;
import org.llama4j.tensor.GgmlType;

/**
 * The element types a safetensors header may name. All are recognised so that an unsupported file fails with
 * the dtype's name; {@link #ggmlType()} says which ones llama4j can view as a {@link org.llama4j.tensor.BlockTensor}
 * directly. {@link #F8_E4M3} weights are read together with their scale tensor (row-scaled FP8).
 */
public enum SafetensorsDtype {
    BOOL(1, null),
    U8(1, null),
    I8(1, null),
    I16(2, null),
    U16(2, null),
    I32(4, null),
    U32(4, null),
    I64(8, null),
    U64(8, null),
    F16(2, GgmlType.F16),
    BF16(2, GgmlType.BF16),
    F32(4, GgmlType.F32),
    F64(8, null),
    /** OCP FP8 E4M3 "fn" (PyTorch {@code float8_e4m3fn}): no infinities, max 448. */
    F8_E4M3(1, null),
    /** OCP FP8 E5M2. Recognised only to name it in errors. */
    F8_E5M2(1, null);

    private final int byteSize;
    private final GgmlType ggmlType;

    SafetensorsDtype(int byteSize, GgmlType ggmlType) {
        this.byteSize = byteSize;
        this.ggmlType = ggmlType;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The ggml type with the same element encoding, when one exists and llama4j computes with it. */
    public Optional<GgmlType> ggmlType() {
        return Optional.ofNullable(ggmlType);
    }

    /** The dtype spelled as in a safetensors header ("BF16", "F8_E4M3", ...), if known. */
    public static Optional<SafetensorsDtype> fromName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
