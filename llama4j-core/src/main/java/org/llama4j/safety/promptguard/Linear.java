package org.llama4j.safety.promptguard;

import java.util.stream.IntStream;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.tensor.Tensor;

/**
 * {@code y = x·Wᵀ + b} for a PyTorch {@code nn.Linear} of {@code in → out}, over rows of tokens. The weight is decoded
 * to float32 once (from F32, F16 or BF16 safetensors) so the hot loop is a plain vectorized dot product.
 */
final class Linear {
    final int in;
    final int out;
    private final float[] weight; // out rows of in values
    private final float[] bias;   // null when the layer has none

    Linear(int in, int out, float[] weight, float[] bias) {
        if (weight.length != in * out || (bias != null && bias.length != out)) {
            throw new IllegalArgumentException("linear " + in + "→" + out + ": weight of " + weight.length
                    + " values, bias of " + (bias == null ? "none" : bias.length));
        }
        this.in = in;
        this.out = out;
        this.weight = weight;
        this.bias = bias;
    }

    /** Loads {@code prefix.weight} ([out, in]) and, when {@code withBias}, {@code prefix.bias} ([out]). */
    static Linear load(HfModelFolder folder, String prefix, int in, int out, boolean withBias) {
        float[] w = floats(folder, prefix + ".weight", in, out);
        float[] b = withBias ? floats(folder, prefix + ".bias", out) : null;
        return new Linear(in, out, w, b);
    }

    /** A tensor's values after checking its ggml shape is exactly {@code shape}. */
    static float[] floats(HfModelFolder folder, String name, long... shape) {
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
        return t.toFloatArray();
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
        float[] y = new float[tokens * out];
        int quads = tokens / 4;
        // rows in parallel chunks; within a chunk each weight row meets four tokens at a time
        int chunk = Math.max(1, Math.min(64, out / (4 * Runtime.getRuntime().availableProcessors()) + 1));
        int chunks = (out + chunk - 1) / chunk;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            float[] four = new float[4];
            int oEnd = Math.min(out, (c + 1) * chunk);
            for (int o = c * chunk; o < oEnd; o++) {
                int wo = o * in;
                float b = bias == null ? 0f : bias[o];
                for (int q = 0; q < quads; q++) {
                    int t = 4 * q;
                    VectorOps.dot4(weight, wo, x, t * in, in, in, four);
                    y[t * out + o] = four[0] + b;
                    y[(t + 1) * out + o] = four[1] + b;
                    y[(t + 2) * out + o] = four[2] + b;
                    y[(t + 3) * out + o] = four[3] + b;
                }
                for (int t = 4 * quads; t < tokens; t++) {
                    y[t * out + o] = VectorOps.dot(weight, wo, x, t * in, in) + b;
                }
            }
        });
        return y;
    }
}
