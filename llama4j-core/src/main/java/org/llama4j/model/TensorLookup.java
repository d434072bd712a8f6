package org.llama4j.model;

import java.util.Arrays;
import java.util.Optional;
import java.util.function.Function;
import org.llama4j.format.ModelFormatException;
import org.llama4j.tensor.Tensor;

/**
 * Named tensors of one checkpoint with shape checks: a missing or wrongly shaped tensor fails with the file, the
 * tensor's name, and the expected and actual shapes (ggml order: row length first).
 */
public final class TensorLookup {
    private final String source;
    private final Function<String, Optional<Tensor>> finder;

    public TensorLookup(String source, Function<String, Optional<Tensor>> finder) {
        this.source = source;
        this.finder = finder;
    }

    public String source() {
        return source;
    }

    public Optional<Tensor> find(String name) {
        return finder.apply(name);
    }

    /** The tensor {@code name}, which must have exactly {@code shape}. */
    public Tensor require(String name, long... shape) {
        Tensor t = find(name).orElseThrow(() -> new ModelFormatException(source + ": tensor '" + name
                + "' is missing (expected shape " + Arrays.toString(shape) + ")"));
        return checkShape(t, name, shape);
    }

    /** The tensor {@code name} if present, which then must have exactly {@code shape}. */
    public Optional<Tensor> optional(String name, long... shape) {
        return find(name).map(t -> checkShape(t, name, shape));
    }

    /** A 1-D weight (norms) as floats. */
    public float[] vector(String name, long length) {
        return require(name, length).toFloatArray();
    }

    private Tensor checkShape(Tensor t, String name, long[] shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelFormatException(source + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape) + " (ggml order, row length first)");
        }
        return t;
    }
}
