package org.llama4j.vision;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llama4j.image.PillowResize;
import org.llama4j.image.RgbImage;

/**
 * Meta's Llama 4 image transform ({@code VariableSizeImageTransform} in {@code preprocess.py}) reproduced exactly:
 * canvas choice among the tile arrangements of up to {@code maxPatches} tiles, aspect-preserving Pillow bilinear
 * resize without upscaling beyond one tile, black padding to the right and bottom, normalisation in float32,
 * row-major tiles, and the global thumbnail (the whole image squashed to one tile) when there is more than one
 * tile.
 */
public final class ImagePreprocessor {
    private final PreprocessorConfig config;

    public ImagePreprocessor(PreprocessorConfig config) {
        this.config = config;
    }

    public PreprocessorConfig config() {
        return config;
    }

    /**
     * Meta's {@code find_supported_resolutions}: for k = maxChunks down to 1, each factor pair (a, k / a) in
     * increasing a, grouped by the ratio a / (k / a) in first-seen order; each pair times the tile size. Meta
     * then reads a pair as (width, height), and so do we: element [0] is the width.
     */
    public static List<int[]> supportedCanvases(int maxChunks, int tileSize) {
        if (maxChunks <= 0) {
            throw new IllegalArgumentException("max_patches must be positive, got " + maxChunks);
        }
        Map<Double, List<int[]>> byRatio = new LinkedHashMap<>();
        for (int k = maxChunks; k >= 1; k--) {
            for (int a = 1; a <= k; a++) {
                if (k % a == 0) {
                    // Python's a / b is a correctly rounded double, so equal fractions give equal keys.
                    byRatio.computeIfAbsent((double) a / (k / a), r -> new ArrayList<>()).add(new int[] {a, k / a});
                }
            }
        }
        List<int[]> out = new ArrayList<>();
        for (List<int[]> group : byRatio.values()) {
            for (int[] p : group) {
                out.add(new int[] {Math.multiplyExact(p[0], tileSize), Math.multiplyExact(p[1], tileSize)});
            }
        }
        return out;
    }

    /**
     * Meta's {@code get_best_fit} (without {@code resize_to_max_canvas}): scale = min(canvasW / w, canvasH / h) in
     * float32; the smallest scale >= 1 if any, else the largest; among canvases with exactly that scale the
     * smallest area, first on ties. Returns {width, height}.
     */
    public static int[] bestCanvas(int width, int height, List<int[]> canvases) {
        float[] scales = new float[canvases.size()];
        boolean anyUpscale = false;
        for (int i = 0; i < scales.length; i++) {
            int[] c = canvases.get(i);
            float sw = (float) c[0] / (float) width;
            float sh = (float) c[1] / (float) height;
            scales[i] = sw > sh ? sh : sw;
            anyUpscale |= scales[i] >= 1f;
        }
        float chosen = anyUpscale ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
        for (float s : scales) {
            if (anyUpscale && s >= 1f && s < chosen) {
                chosen = s;
            } else if (!anyUpscale && s > chosen) {
                chosen = s;
            }
        }
        int[] best = null;
        long bestArea = Long.MAX_VALUE;
        for (int i = 0; i < scales.length; i++) {
            if (scales[i] == chosen) {
                int[] c = canvases.get(i);
                long area = (long) c[0] * c[1];
                if (area < bestArea) {
                    bestArea = area;
                    best = c;
                }
            }
        }
        return best.clone();
    }

    /**
     * Meta's {@code resize_without_distortion} with {@code max_upscaling_size} = the tile size: the target is
     * limited so that no side grows beyond max(side, tile), then the aspect ratio is kept with Python's double
     * arithmetic and {@code floor}. Returns {width, height}, each at least 1.
     */
    public static int[] resizeTarget(int width, int height, int canvasWidth, int canvasHeight, int tileSize) {
        int tw = Math.min(Math.max(width, tileSize), canvasWidth);
        int th = Math.min(Math.max(height, tileSize), canvasHeight);
        double scaleW = (double) tw / width;
        double scaleH = (double) th / height;
        int nw;
        int nh;
        if (scaleW < scaleH) {
            nw = tw;
            nh = (int) Math.min(Math.floor(height * scaleW), th);
        } else {
            nh = th;
            nw = (int) Math.min(Math.floor(width * scaleH), tw);
        }
        return new int[] {Math.max(nw, 1), Math.max(nh, 1)};
    }

    /** The canvas, resize and grid this preprocessor picks for an image of the given size. */
    public TilePlan plan(int width, int height) {
        int s = config.tileSize();
        int[] canvas = bestCanvas(width, height, supportedCanvases(config.maxPatches(), s));
        int[] resized = resizeTarget(width, height, canvas[0], canvas[1], s);
        return new TilePlan(width, height, canvas[0], canvas[1], resized[0], resized[1], s);
    }

    public PreprocessedImage preprocess(RgbImage image) {
        TilePlan plan = plan(image.width(), image.height());
        RgbImage resized = PillowResize.bilinear(image, plan.resizedWidth(), plan.resizedHeight());
        float[][] tiles = new float[plan.totalTiles()][];
        int t = 0;
        for (int r = 0; r < plan.rows(); r++) {
            for (int c = 0; c < plan.cols(); c++) {
                tiles[t++] = tile(resized, c * plan.tileSize(), r * plan.tileSize());
            }
        }
        if (plan.hasGlobalTile()) {
            tiles[t] = tile(PillowResize.bilinear(image, plan.tileSize(), plan.tileSize()), 0, 0);
        }
        return new PreprocessedImage(plan, tiles);
    }

    /**
     * One S x S tile at (x0, y0) of the image padded with black to the right and bottom, as torchvision's
     * {@code ToTensor} (u / 255 in float32) then {@code Normalize} ((v - mean) / std in float32).
     */
    private float[] tile(RgbImage img, int x0, int y0) {
        int s = config.tileSize();
        float[] mean = config.mean();
        float[] std = config.std();
        float[][] lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int u = 0; u < 256; u++) {
                lut[c][u] = ((float) u / 255f - mean[c]) / std[c];
            }
        }
        float[] out = new float[3 * s * s];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < s; y++) {
                for (int x = 0; x < s; x++) {
                    int ix = x0 + x;
                    int iy = y0 + y;
                    int u = ix < img.width() && iy < img.height() ? img.get(ix, iy, c) : 0;
                    out[(c * s + y) * s + x] = lut[c][u];
                }
            }
        }
        return out;
    }
}
