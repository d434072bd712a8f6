package org.llama4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * FP8 E4M3 weights with one scale per output row (compressed-tensors "channel" strategy, as in the Llama 4
 * Maverick FP8 release) or one scale for the whole tensor ("tensor" strategy): value = fp8 × scale.
 *
 * @param shape  ggml order; {@code shape[0]} is the row length
 * @param data   one byte per value, rows contiguous
 * @param scales an F32/BF16/F16 tensor of {@link #rowCount()} values (one per row) or of a single value
 */
public record Fp8RowScaledTensor(String name, long[] shape, MemorySegment data, BlockTensor scales) implements Tensor {

    public Fp8RowScaledTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(scales, "scales");
        shape = shape.clone();
        if (shape.length == 0) {
            throw new IllegalArgumentException("tensor " + name + ": empty shape");
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension in " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (data.byteSize() != elements) {
            throw new IllegalArgumentException("tensor " + name + ": F8_E4M3 data of " + data.byteSize()
                    + " bytes, expected " + elements + " for shape " + Arrays.toString(shape));
        }
        long rows = shape[0] == 0 ? 0 : elements / shape[0];
        long scaleCount = scales.elementCount();
        if (scaleCount != 1 && scaleCount != rows) {
            throw new IllegalArgumentException("tensor " + name + ": " + scaleCount + " scales for " + rows
                    + " rows (expected one per row, or one for the whole tensor)");
        }
        switch (scales.type()) {
            case F32, BF16, F16 -> { }
            default -> throw new IllegalArgumentException("tensor " + name + ": scale type " + scales.type()
                    + " is not F32, BF16 or F16");
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String typeName() {
        return "F8_E4M3";
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    /** The scale of row {@code row}. */
    public float scale(long row) {
        long index = scales.elementCount() == 1 ? 0 : row;
        MemorySegment s = scales.data();
        return switch (scales.type()) {
            case F32 -> s.getAtIndex(BlockCodecs.F32, index);
            case BF16 -> Float.intBitsToFloat(s.getAtIndex(BlockCodecs.I16, index) << 16);
            case F16 -> Float.float16ToFloat(s.getAtIndex(BlockCodecs.I16, index));
            default -> throw new AssertionError(scales.type());
        };
    }

    @Override
    public void dequantizeRow(long row, float[] dst, int dstOffset) {
        int n = Math.toIntExact(shape[0]);
        long base = row * shape[0];
        float scale = scale(row);
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = Fp8E4M3.decode(data.get(ValueLayout.JAVA_BYTE, base + i)) * scale;
        }
    }

    /** Accumulates fp8 × x in float32 and applies the row scale once at the end, as FP8 GEMM kernels do. */
    @Override
    public float dotRow(long row, float[] x, int xOffset) {
        int n = Math.toIntExact(shape[0]);
        long base = row * shape[0];
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += Fp8E4M3.decode(data.get(ValueLayout.JAVA_BYTE, base + i)) * x[xOffset + i];
        }
        return sum * scale(row);
    }

    /** Encoded rows and their scales, as produced by {@link #quantizeRows}. */
    public record QuantizedRows(byte[] data, float[] scales) {
    }

    /**
     * Quantizes {@code values} (rows of {@code rowLength}) with scale = rowAbsMax / 448, where the scale is first
     * rounded to {@code scaleType} (the precision it will be stored in) so that the stored scale is the one the
     * values were divided by. An all-zero row gets scale 1.
     */
    public static QuantizedRows quantizeRows(float[] values, int rowLength, GgmlType scaleType) {
        if (rowLength <= 0 || values.length % rowLength != 0) {
            throw new IllegalArgumentException(values.length + " values are not whole rows of " + rowLength);
        }
        int rows = values.length / rowLength;
        byte[] out = new byte[values.length];
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) {
            float absMax = 0f;
            for (int i = r * rowLength; i < (r + 1) * rowLength; i++) {
                absMax = Math.max(absMax, Math.abs(values[i]));
            }
            float scale = roundTo(scaleType, absMax == 0f ? 1f : absMax / Fp8E4M3.MAX);
            scales[r] = scale;
            for (int i = r * rowLength; i < (r + 1) * rowLength; i++) {
                out[i] = Fp8E4M3.encode(values[i] / scale);
            }
        }
        return new QuantizedRows(out, scales);
    }

    private static float roundTo(GgmlType type, float f) {
        return switch (type) {
            case F32 -> f;
            case BF16 -> Float.intBitsToFloat(BlockCodecs.floatToBf16(f) << 16);
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(f));
            default -> throw new IllegalArgumentException("scale type " + type + " is not F32, BF16 or F16");
        };
    }
}
