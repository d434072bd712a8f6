package org.llama4j.image;

/**
 * Pillow's antialiased bilinear resampling ({@code Image.resize(size, BILINEAR)}, {@code ImagingResample} in
 * {@code Resample.c}) reproduced bit for bit on 8-bit RGB images, because Meta's Llama 4 preprocessing resizes PIL
 * images and the vision encoder's inputs must match it exactly.
 *
 * <p>What makes it Pillow's and not a textbook bilinear: the triangle filter's support grows with the downscale
 * factor (antialiasing); the coefficients are computed in double, normalised per output pixel and then turned
 * into fixed-point integers with {@link #PRECISION_BITS} fraction bits; the two passes are separable, horizontal
 * first into a uint8 intermediate (clipped and truncated after adding one half), restricted to the source rows the
 * vertical pass reads; a pass is skipped when that axis keeps its size.
 */
public final class PillowResize {
    /** Pillow's {@code PRECISION_BITS} for 8-bit images: 32 - 8 - 2. */
    public static final int PRECISION_BITS = 32 - 8 - 2;

    private PillowResize() {
    }

    /** The fixed-point filter for one axis: output i reads {@code count[i]} inputs from {@code start[i]}. */
    record Coefficients(int ksize, int[] start, int[] count, int[] weights) {
    }

    /** Pillow's {@code bilinear_filter}: the triangle 1 - |x| on [-1, 1]. */
    private static double triangle(double x) {
        x = Math.abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    /** {@code precompute_coeffs} followed by {@code normalize_coeffs_8bpc}, for the box [0, inSize). */
    static Coefficients coefficients(int inSize, int outSize) {
        final double filterSupport = 1.0;
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filterSupport * filterScale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] start = new int[outSize];
        int[] count = new int[outSize];
        int[] weights = new int[Math.multiplyExact(outSize, ksize)];
        double[] k = new double[ksize];
        double ss = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            // Pillow rounds with a C (int) cast, i.e. truncation toward zero after adding 0.5.
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            double ww = 0.0;
            for (int x = 0; x < xmax; x++) {
                double w = triangle((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < ksize; x++) {
                double v = x < xmax ? (ww != 0.0 ? k[x] / ww : k[x]) : 0.0;
                weights[xx * ksize + x] = v < 0
                        ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                        : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            start[xx] = xmin;
            count[xx] = xmax;
        }
        return new Coefficients(ksize, start, count, weights);
    }

    /** Pillow's {@code clip8}: the fixed-point sum to 0..255, truncating the fraction. */
    private static int clip8(int in) {
        if (in >= (1 << PRECISION_BITS << 8)) {
            return 255;
        }
        if (in <= 0) {
            return 0;
        }
        return in >> PRECISION_BITS;
    }

    /** Resizes to {@code outWidth x outHeight} exactly as Pillow's {@code resize((outWidth, outHeight), BILINEAR)}. */
    public static RgbImage bilinear(RgbImage in, int outWidth, int outHeight) {
        if (outWidth <= 0 || outHeight <= 0) {
            throw new IllegalArgumentException("resize target must be positive, got " + outWidth + "x" + outHeight);
        }
        if (outWidth == in.width() && outHeight == in.height()) {
            return new RgbImage(in.width(), in.height(), in.rgb().clone());
        }
        Coefficients horiz = coefficients(in.width(), outWidth);
        Coefficients vert = coefficients(in.height(), outHeight);
        byte[] src = in.rgb();
        int srcWidth = in.width();
        int srcHeight = in.height();
        int[] vStart = vert.start().clone();
        if (outWidth != in.width()) {
            // Only the source rows the vertical pass will read are resampled horizontally.
            int first = vert.start()[0];
            int last = vert.start()[outHeight - 1] + vert.count()[outHeight - 1];
            if (outHeight == in.height()) {
                first = 0;
                last = in.height();
            } else {
                for (int i = 0; i < outHeight; i++) {
                    vStart[i] -= first;
                }
            }
            src = horizontal(src, srcWidth, first, last - first, outWidth, horiz);
            srcWidth = outWidth;
            srcHeight = last - first;
        }
        if (outHeight != in.height()) {
            src = vertical(src, srcWidth, outHeight, vert, vStart);
            srcHeight = outHeight;
        }
        return new RgbImage(srcWidth, srcHeight, src);
    }

    private static byte[] horizontal(byte[] src, int srcWidth, int firstRow, int rows, int outWidth, Coefficients c) {
        byte[] out = new byte[rows * outWidth * 3];
        int ksize = c.ksize();
        int half = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < rows; y++) {
            int rowBase = (y + firstRow) * srcWidth * 3;
            for (int xx = 0; xx < outWidth; xx++) {
                int xmin = c.start()[xx];
                int n = c.count()[xx];
                int kOff = xx * ksize;
                int s0 = half;
                int s1 = half;
                int s2 = half;
                for (int x = 0; x < n; x++) {
                    int w = c.weights()[kOff + x];
                    int p = rowBase + (x + xmin) * 3;
                    s0 += (src[p] & 0xFF) * w;
                    s1 += (src[p + 1] & 0xFF) * w;
                    s2 += (src[p + 2] & 0xFF) * w;
                }
                int o = (y * outWidth + xx) * 3;
                out[o] = (byte) clip8(s0);
                out[o + 1] = (byte) clip8(s1);
                out[o + 2] = (byte) clip8(s2);
            }
        }
        return out;
    }

    private static byte[] vertical(byte[] src, int width, int outHeight, Coefficients c, int[] start) {
        byte[] out = new byte[outHeight * width * 3];
        int ksize = c.ksize();
        int half = 1 << (PRECISION_BITS - 1);
        int stride = width * 3;
        for (int yy = 0; yy < outHeight; yy++) {
            int ymin = start[yy];
            int n = c.count()[yy];
            int kOff = yy * ksize;
            for (int xx = 0; xx < stride; xx++) {
                int s = half;
                for (int y = 0; y < n; y++) {
                    s += (src[(y + ymin) * stride + xx] & 0xFF) * c.weights()[kOff + y];
                }
                out[yy * stride + xx] = (byte) clip8(s);
            }
        }
        return out;
    }
}
