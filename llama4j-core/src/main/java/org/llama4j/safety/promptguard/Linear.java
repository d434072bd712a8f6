package org.llama4j.safety.promptguard;

import org.llama4j.format.ModelFormatException;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.kernel.KernelMode;
import org.llama4j.kernel.Kernels;
import org.llama4j.tensor.Tensor;

/**
 * {@code y = x·Wᵀ + b} for a PyTorch {@code nn.Linear} of {@code in → out}, over rows of tokens, on the shared
 * {@link Kernels#matmul} (the same kernel as the LLM path). The weight stays a view of the mapped safetensors file
 * (F32, F16 or BF16); only the bias is read into float32.
 */
record Linear(Tensor weight, float[] bias) {

    Linear {
        if (bias != null && bias.length != weight.rowCount()) {
            throw new IllegalArgumentException("linear " + weight.name() + ": " + weight.rowCount()
                    + " outputs, bias of " + bias.length);
        }
    }

    int in() {
        return Math.toIntExact(weight.rowLength());
    }

    int out() {
        return Math.toIntExact(weight.rowCount());
    }

    /** Loads {@code prefix.weight} ([out, in]) and, when {@code withBias}, {@code prefix.bias} ([out]). */
    static Linear load(HfModelFolder folder, String prefix, int in, int out, boolean withBias) {
        Tensor w = tensor(folder, prefix + ".weight", in, out);
        float[] b = withBias ? floats(folder, prefix + ".bias", out) : null;
        return new Linear(w, b);
    }

    /** A tensor's values after checking its ggml shape is exactly {@code shape}. */
    static float[] floats(HfModelFolder folder, String name, long... shape) {
        return tensor(folder, name, shape).toFloatArray();
    }

    /** A tensor after checking its ggml shape is exactly {@code shape}. */
    static Tensor tensor(HfModelFolder folder, String name, long... shape) {
        Tensor t = folder.tensor(name);
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            long[] hf = t.shape().clone();
            long[] want = shape.clone();
            reverse(hf);
            reverse(want);
            throw new ModelFormatException(folder.dir() + ": tensor \"" + name + "\" has shape "
                    + java.util.Arrays.toString(hf) + ", expected " + java.util.Arrays.toString(want)
                    + " from config.json");
        }
        return t;
    }

    private static void reverse(long[] a) {
        for (int i = 0, j = a.length - 1; i < j; i++, j--) {
            long t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Applies the layer to {@code tokens} rows of {@code x} ({@code tokens × in}); returns {@code tokens × out}. */
    float[] apply(float[] x, int tokens) {
        float[] y = new float[Math.multiplyExact(tokens, out())];
        Kernels.matmul(weight, bias, x, tokens, y, KernelMode.EXACT);
        return y;
    }
}
