package org.llama4j.safety.promptguard;

import org.llama4j.format.ModelFormatException;

/** The activations a DeBERTa config may name ({@code hidden_act}, {@code pooler_hidden_act}), as transformers' ACT2FN. */
public enum Activation {
    /** {@code x·Φ(x)} with the exact error function (PyTorch's default GELU). */
    GELU,
    /** The tanh approximation ({@code gelu_new}, {@code gelu_pytorch_tanh}). */
    GELU_TANH,
    RELU,
    TANH;

    public static Activation parse(String name, String where) {
        return switch (name) {
            case "gelu" -> GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
            case "relu" -> RELU;
            case "tanh" -> TANH;
            default -> throw new ModelFormatException(where + ": activation \"" + name
                    + "\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, tanh)");
        };
    }

    public float apply(float x) {
        return switch (this) {
            case GELU -> (float) (0.5 * x * (1.0 + erf(x / Math.sqrt(2.0))));
            case GELU_TANH -> (float) (0.5 * x * (1.0 + Math.tanh(Math.sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x))));
            case RELU -> Math.max(0f, x);
            case TANH -> (float) Math.tanh(x);
        };
    }

    public void applyInPlace(float[] v, int from, int to) {
        for (int i = from; i < to; i++) {
            v[i] = apply(v[i]);
        }
    }

    /**
     * The error function to about 1e-15, in double: for {@code |x| < 2.5} the series
     * {@code 2/√π·e^{-x²}·Σ 2ⁿx^{2n+1}/(1·3···(2n+1))}, whose terms are all positive (no cancellation); above, the
     * continued fraction of {@code erfc}; beyond 6, ±1 (erfc(6) ≈ 2e-17).
     */
    static double erf(double x) {
        double a = Math.abs(x);
        double r;
        if (a < 2.5) {
            double x2 = a * a;
            double term = a;
            double sum = a;
            for (int n = 1; term > 1e-17 * sum; n++) {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
            }
            r = 2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum;
        } else if (a < 6) {
            r = 1 - erfcContinuedFraction(a);
        } else {
            r = 1;
        }
        return x < 0 ? -r : r;
    }

    /** erfc(x) for x ≥ 2.5 by the Laplace continued fraction, evaluated with the modified Lentz method. */
    private static double erfcContinuedFraction(double x) {
        // erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
        double tiny = 1e-300;
        double f = x;
        double cc = x;
        double d = 0;
        for (int k = 1; k < 200; k++) {
            double ak = k / 2.0;
            d = x + ak * d;
            d = d == 0 ? tiny : d;
            cc = x + ak / cc;
            cc = cc == 0 ? tiny : cc;
            d = 1 / d;
            double delta = cc * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) {
                break;
            }
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}
