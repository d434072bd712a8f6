package org.llama4j.model;

import java.util.Arrays;

/**
 * A deliberately naive Llama 4 (or dense Llama 3) in double precision, written like the Meta reference:
 * full-sequence prefill with an explicit attention mask (chunked-causal on Llama 4's RoPE layers, causal otherwise), every expert applied to every
 * token with a zero gate where not selected, no cache. Used to check the engine, which shares none of this code.
 */
final class NaiveLlama4 {
    final double[][] logits;
    final int[][] top1PerLayer;   // [layer][position], -1 on dense layers

    NaiveLlama4(RandomLlama4 m, int[] tokens) {
        Llama4Config c = m.config;
        int n = tokens.length;
        int d = c.hiddenSize();
        int hd = c.headDim();
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            x[t] = toDouble(m.embeddings[tokens[t]]);
        }
        top1PerLayer = new int[c.layerCount()][n];
        double[] freqs = frequencies(c);
        for (int l = 0; l < c.layerCount(); l++) {
            RandomLlama4.Layer w = m.layers.get(l);
            boolean rope = c.usesRope(l);
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] xn = rmsnorm(x[t], w.attnNorm, c.rmsNormEps());
                q[t] = matvec(w.wq, xn);
                k[t] = matvec(w.wk, xn);
                v[t] = matvec(w.wv, xn);
                if (rope) {
                    rotate(q[t], hd, t, freqs);
                    rotate(k[t], hd, t, freqs);
                    if (c.useQkNorm()) {
                        headNorm(q[t], hd, c.rmsNormEps());
                        headNorm(k[t], hd, c.rmsNormEps());
                    }
                } else if (c.attnTemperatureTuning()) {
                    double s = 1 + c.attnScale() * Math.log(Math.floor((t + 1) / (double) c.floorScale()) + 1);
                    for (int i = 0; i < q[t].length; i++) {
                        q[t][i] *= s;
                    }
                }
            }
            int chunk = c.attentionChunkSize();
            for (int i = 0; i < n; i++) {
                double[] mixed = new double[c.headCount() * hd];
                for (int h = 0; h < c.headCount(); h++) {
                    int kvh = h / (c.headCount() / c.kvHeadCount());
                    double[] s = new double[n];
                    for (int j = 0; j < n; j++) {
                        boolean visible = j <= i && (!c.chunksAttention(l) || j / chunk == i / chunk);
                        if (!visible) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int e = 0; e < hd; e++) {
                            dot += q[i][h * hd + e] * k[j][kvh * hd + e];
                        }
                        s[j] = dot / Math.sqrt(hd);
                    }
                    double max = Arrays.stream(s).max().orElseThrow();
                    double sum = 0;
                    for (int j = 0; j < n; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j < n; j++) {
                        for (int e = 0; e < hd; e++) {
                            mixed[h * hd + e] += s[j] / sum * v[j][kvh * hd + e];
                        }
                    }
                }
                double[] o = matvec(w.wo, mixed);
                for (int e = 0; e < d; e++) {
                    x[i][e] += o[e];
                }
            }
            for (int t = 0; t < n; t++) {
                double[] xn = rmsnorm(x[t], w.ffnNorm, c.rmsNormEps());
                double[] out = swiGlu(w.gate, w.up, w.down, xn);
                top1PerLayer[l][t] = -1;
                if (w.router != null) {
                    double[] scores = matvec(w.router, xn);
                    Integer[] order = new Integer[scores.length];
                    Arrays.setAll(order, i -> i);
                    Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
                    top1PerLayer[l][t] = order[0];
                    for (int e = 0; e < scores.length; e++) {
                        boolean selected = false;
                        for (int j = 0; j < c.expertsPerToken(); j++) {
                            selected |= order[j] == e;
                        }
                        double gate = selected ? 1 / (1 + Math.exp(-scores[e])) : 0;
                        double[] gated = xn.clone();
                        for (int i = 0; i < d; i++) {
                            gated[i] *= gate;
                        }
                        double[] y = swiGlu(w.expertGate[e], w.expertUp[e], w.expertDown[e], gated);
                        for (int i = 0; i < d; i++) {
                            out[i] += y[i];
                        }
                    }
                }
                for (int e = 0; e < d; e++) {
                    x[t][e] += out[e];
                }
            }
        }
        logits = new double[n][];
        for (int t = 0; t < n; t++) {
            logits[t] = matvec(m.head, rmsnorm(x[t], m.finalNorm, c.rmsNormEps()));
        }
    }

    static double[] frequencies(Llama4Config c) {
        int hd = c.headDim();
        double[] f = new double[hd / 2];
        for (int i = 0; i < f.length; i++) {
            double freq = Math.pow(c.ropeTheta(), -2.0 * i / hd);
            var s = c.ropeScaling();
            if (s != null) {
                double wavelength = 2 * Math.PI / freq;
                double low = s.originalContextLength() / (double) s.lowFreqFactor();
                double high = s.originalContextLength() / (double) s.highFreqFactor();
                if (wavelength > low) {
                    freq /= s.factor();
                } else if (wavelength >= high) {
                    double smooth = (s.originalContextLength() / wavelength - s.lowFreqFactor())
                            / (s.highFreqFactor() - s.lowFreqFactor());
                    freq = (1 - smooth) * freq / s.factor() + smooth * freq;
                }
            }
            f[i] = freq;
        }
        return f;
    }

    private static void rotate(double[] v, int hd, int pos, double[] freqs) {
        for (int base = 0; base < v.length; base += hd) {
            for (int i = 0; i < hd / 2; i++) {
                double a = pos * freqs[i];
                double re = v[base + 2 * i];
                double im = v[base + 2 * i + 1];
                v[base + 2 * i] = re * Math.cos(a) - im * Math.sin(a);
                v[base + 2 * i + 1] = re * Math.sin(a) + im * Math.cos(a);
            }
        }
    }

    private static void headNorm(double[] v, int hd, double eps) {
        for (int base = 0; base < v.length; base += hd) {
            double ss = 0;
            for (int i = 0; i < hd; i++) {
                ss += v[base + i] * v[base + i];
            }
            double inv = 1 / Math.sqrt(ss / hd + eps);
            for (int i = 0; i < hd; i++) {
                v[base + i] *= inv;
            }
        }
    }

    private static double[] swiGlu(float[][] gate, float[][] up, float[][] down, double[] x) {
        double[] g = matvec(gate, x);
        double[] u = matvec(up, x);
        for (int i = 0; i < g.length; i++) {
            g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        }
        return matvec(down, g);
    }

    private static double[] rmsnorm(double[] x, float[] w, double eps) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * w[i];
        }
        return out;
    }

    private static double[] matvec(float[][] w, double[] x) {
        double[] y = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double s = 0;
            for (int i = 0; i < x.length; i++) {
                s += w[r][i] * x[i];
            }
            y[r] = s;
        }
        return y;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
