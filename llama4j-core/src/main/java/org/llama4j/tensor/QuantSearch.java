package org.llama4j.tensor;

/**
 * Scale searches the quantizers share. Every ggml format approximates a group of values either as
 * {@code scale * level} (levels from a fixed grid: a run of integers or the IQ4 code book) or as
 * {@code scale * q + offset} (q in {@code 0..qmax}). The searches minimise the squared error: a sweep of candidate
 * scales around "the largest value maps to the outermost level", each followed by the least-squares optimal scale
 * (and offset) for the codes it produced, then a few alternating refinements (re-pick codes, re-fit) of the best
 * one. This is the idea of ggml's {@code make_qx_quants}/{@code make_qkx2_quants}, written independently.
 *
 * <p>Callers store the returned scale in its coarse form (fp16, or a 4/6/8-bit multiple of a super-block scale)
 * and then choose the final codes against the value the decoder will actually compute, so rounding the scale never
 * leaves a code that is not the nearest one.
 */
final class QuantSearch {
    private QuantSearch() {
    }

    /** Candidate scales tried on each side of the "extreme value on the outermost level" guess. */
    private static final int SWEEP = 12;
    /** Relative spacing of the candidates (the sweep covers about ±18% around the guess). */
    private static final float SWEEP_STEP = 0.015f;
    private static final int REFINEMENTS = 4;

    /** The levels a code can decode to, ascending; code {@code i} decodes to {@code level(i)}. */
    sealed interface Grid permits IntRange, Table {
        int size();

        float level(int code);

        /** The code whose level is nearest to {@code v} (v finite). */
        int nearest(float v);
    }

    /** The integers {@code lowest..highest}; code {@code i} is level {@code lowest + i}. */
    record IntRange(int lowest, int highest) implements Grid {
        @Override
        public int size() {
            return highest - lowest + 1;
        }

        @Override
        public float level(int code) {
            return lowest + code;
        }

        @Override
        public int nearest(float v) {
            return (int) Math.clamp(Math.rint(v), lowest, highest) - lowest;
        }
    }

    /** An ascending code book such as IQ4's. */
    record Table(int[] levels) implements Grid {
        @Override
        public int size() {
            return levels.length;
        }

        @Override
        public float level(int code) {
            return levels[code];
        }

        @Override
        public int nearest(float v) {
            int lo = 0;
            int hi = levels.length - 1;
            while (hi - lo > 1) {
                int mid = (lo + hi) >>> 1;
                if (levels[mid] <= v) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            return v - levels[lo] <= levels[hi] - v ? lo : hi;
        }
    }

    /** The codes nearest to {@code x[i] / scale}; every value gets the code nearest 0 when {@code scale} is 0. */
    static void assign(float[] x, int offset, int n, Grid grid, float scale, int[] codes, int codeOffset) {
        if (scale == 0f) {
            int zero = grid.nearest(0f);
            for (int i = 0; i < n; i++) {
                codes[codeOffset + i] = zero;
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            codes[codeOffset + i] = grid.nearest(x[offset + i] / scale);
        }
    }

    /**
     * The scale {@code s} minimising {@code sum (x[i] - s * level(code[i]))^2} over the codes of {@code grid};
     * leaves the codes for that scale in {@code codes[codeOffset..+n)}. Returns 0 for an all-zero group.
     */
    static float fitScale(float[] x, int offset, int n, Grid grid, int[] codes, int codeOffset) {
        float extreme = 0f;
        for (int i = 0; i < n; i++) {
            if (Math.abs(x[offset + i]) > Math.abs(extreme)) {
                extreme = x[offset + i];
            }
        }
        if (extreme == 0f) {
            assign(x, offset, n, grid, 0f, codes, codeOffset);
            return 0f;
        }
        int[] trial = new int[n];
        float bestScale = 0f;
        double bestGain = -1;
        // The extreme value goes to either end of the grid (they differ for asymmetric grids such as -8..7).
        float[] ends = {grid.level(0), grid.level(grid.size() - 1)};
        for (float end : ends) {
            if (end == 0f) {
                continue;
            }
            for (int k = -SWEEP; k <= SWEEP; k++) {
                float guess = extreme / (end * (1f + k * SWEEP_STEP));
                assign(x, offset, n, grid, guess, trial, 0);
                double[] fit = leastSquaresScale(x, offset, n, grid, trial);
                if (fit[1] > bestGain) {
                    bestGain = fit[1];
                    bestScale = (float) fit[0];
                    System.arraycopy(trial, 0, codes, codeOffset, n);
                }
            }
        }
        for (int r = 0; r < REFINEMENTS && bestScale != 0f; r++) {
            assign(x, offset, n, grid, bestScale, trial, 0);
            double[] fit = leastSquaresScale(x, offset, n, grid, trial);
            if (fit[1] <= bestGain) {
                break;
            }
            bestGain = fit[1];
            bestScale = (float) fit[0];
            System.arraycopy(trial, 0, codes, codeOffset, n);
        }
        return bestScale;
    }

    /**
     * For fixed codes, the optimal scale {@code sum(x*l)/sum(l*l)} and the error reduction it achieves,
     * {@code sum(x*l)^2/sum(l*l)} (the squared error is {@code sum(x*x)} minus that).
     */
    private static double[] leastSquaresScale(float[] x, int offset, int n, Grid grid, int[] codes) {
        double sxl = 0;
        double sll = 0;
        for (int i = 0; i < n; i++) {
            double l = grid.level(codes[i]);
            sxl += x[offset + i] * l;
            sll += l * l;
        }
        return sll == 0 ? new double[] {0, 0} : new double[] {sxl / sll, sxl * sxl / sll};
    }

    /**
     * Fits {@code x[i] ≈ scale * q[i] + offset} with {@code q} in {@code 0..qmax}, minimising the squared error;
     * with {@code offsetAtMostZero} (the K-quants, whose stored minimum is unsigned and subtracted) the offset is
     * constrained to {@code <= 0}. Leaves the codes in {@code q[qOffset..+n)} and returns {scale, offset}.
     */
    static float[] fitAffine(float[] x, int offset, int n, int qmax, boolean offsetAtMostZero, int[] q, int qOffset) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            min = Math.min(min, x[offset + i]);
            max = Math.max(max, x[offset + i]);
        }
        if (offsetAtMostZero) {
            min = Math.min(min, 0f);
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                q[qOffset + i] = 0;
            }
            return new float[] {0f, min};
        }
        int[] trial = new int[n];
        double[] best = {(max - min) / qmax, min, Double.POSITIVE_INFINITY};
        for (int k = -SWEEP; k <= SWEEP; k++) {
            float scale = (max - min) / (qmax * (1f + k * SWEEP_STEP));
            assignAffine(x, offset, n, qmax, scale, min, trial);
            double[] fit = leastSquaresAffine(x, offset, n, trial, offsetAtMostZero);
            if (fit[2] < best[2]) {
                best = fit;
                System.arraycopy(trial, 0, q, qOffset, n);
            }
        }
        for (int r = 0; r < REFINEMENTS; r++) {
            assignAffine(x, offset, n, qmax, (float) best[0], (float) best[1], trial);
            double[] fit = leastSquaresAffine(x, offset, n, trial, offsetAtMostZero);
            if (fit[2] >= best[2]) {
                break;
            }
            best = fit;
            System.arraycopy(trial, 0, q, qOffset, n);
        }
        return new float[] {(float) best[0], (float) best[1]};
    }

    /** The codes nearest to {@code (x - offset) / scale} in {@code 0..qmax}. */
    static void assignAffine(float[] x, int offset, int n, int qmax, float scale, float valueOffset, int[] q) {
        for (int i = 0; i < n; i++) {
            q[i] = scale <= 0f ? 0 : (int) Math.clamp(Math.rint((x[offset + i] - valueOffset) / scale), 0, qmax);
        }
    }

    /** Least-squares {scale, offset, squared error} for fixed codes. */
    private static double[] leastSquaresAffine(float[] x, int offset, int n, int[] q, boolean offsetAtMostZero) {
        double sq = 0;
        double sqq = 0;
        double sx = 0;
        double sxq = 0;
        for (int i = 0; i < n; i++) {
            double v = x[offset + i];
            sq += q[i];
            sqq += (double) q[i] * q[i];
            sx += v;
            sxq += v * q[i];
        }
        double det = n * sqq - sq * sq;
        double scale;
        double off;
        if (det <= 0) {
            // every code is the same, c: any scale * c + offset = mean fits; prefer offset 0 (allowed by both modes)
            scale = sqq > 0 ? sxq / sqq : 0;
            off = sqq > 0 ? 0 : offsetAtMostZero ? Math.min(0, sx / n) : sx / n;
        } else {
            scale = (n * sxq - sq * sx) / det;
            off = (sqq * sx - sq * sxq) / det;
            if (offsetAtMostZero && off > 0) {
                off = 0;
                scale = sqq > 0 ? sxq / sqq : 0;
            }
        }
        double err = 0;
        for (int i = 0; i < n; i++) {
            double e = x[offset + i] - (scale * q[i] + off);
            err += e * e;
        }
        return new double[] {scale, off, err};
    }

    /**
     * Quantises per-group scales (or mins) {@code s[0..n)} to {@code superScale * level} with levels from
     * {@code grid} and an fp16 {@code superScale}, as every super-block format stores them. Leaves the codes in
     * {@code codes} and returns the fp16-exact super scale (0 when all are 0).
     */
    static float fitSuperScale(float[] s, int n, Grid grid, int[] codes) {
        float superScale = QuantBits.roundFp16(fitScale(s, 0, n, grid, codes, 0));
        assign(s, 0, n, grid, superScale, codes, 0);
        return superScale;
    }

    /**
     * A super-block of {@code y = (d * scaleCode) * level(code)} groups (Q3_K, Q6_K, IQ4_XS): {@code d} fp16-exact,
     * one scale code per group, one code per value.
     */
    record ScaledSuperBlock(float d, int[] scaleCodes, int[] codes) {
    }

    /**
     * Fits each group of {@code groupSize} values with its own scale on {@code grid}, quantises the group scales to
     * {@code d * scaleGrid level}, then re-picks every code against the effective scale the decoder computes,
     * {@code d * scaleGrid.level(scaleCode)}.
     */
    static ScaledSuperBlock fitScaledSuperBlock(float[] x, int offset, int groups, int groupSize, Grid grid, Grid scaleGrid) {
        int[] codes = new int[groups * groupSize];
        float[] scales = new float[groups];
        for (int g = 0; g < groups; g++) {
            scales[g] = fitScale(x, offset + g * groupSize, groupSize, grid, codes, g * groupSize);
        }
        int[] scaleCodes = new int[groups];
        float d = fitSuperScale(scales, groups, scaleGrid, scaleCodes);
        for (int g = 0; g < groups; g++) {
            float effective = d * scaleGrid.level(scaleCodes[g]);
            assign(x, offset + g * groupSize, groupSize, grid, effective, codes, g * groupSize);
        }
        return new ScaledSuperBlock(d, scaleCodes, codes);
    }

    /**
     * A super-block of {@code y = (d * scaleCode) * q - (dmin * minCode)} groups (Q2_K, Q4_K, Q5_K): both
     * super scales fp16-exact, unsigned scale and min codes, codes {@code q} in {@code 0..qmax}.
     */
    record ScaleMinSuperBlock(float d, float dmin, int[] scaleCodes, int[] minCodes, int[] codes) {
    }

    /**
     * Fits each group as {@code scale * q - min} with {@code min >= 0}, quantises the group scales and mins to
     * {@code 0..scaleCodeMax} multiples of two fp16 super scales, then re-picks every code against the effective
     * scale and min the decoder computes.
     */
    static ScaleMinSuperBlock fitScaleMinSuperBlock(float[] x, int offset, int groups, int groupSize, int qmax,
            int scaleCodeMax) {
        int[] codes = new int[groups * groupSize];
        float[] scales = new float[groups];
        float[] mins = new float[groups];
        for (int g = 0; g < groups; g++) {
            float[] fit = fitAffine(x, offset + g * groupSize, groupSize, qmax, true, codes, g * groupSize);
            scales[g] = Math.max(fit[0], 0f);
            mins[g] = -fit[1];
        }
        Grid codeGrid = new IntRange(0, scaleCodeMax);
        int[] scaleCodes = new int[groups];
        int[] minCodes = new int[groups];
        float d = fitSuperScale(scales, groups, codeGrid, scaleCodes);
        float dmin = fitSuperScale(mins, groups, codeGrid, minCodes);
        int[] groupCodes = new int[groupSize];
        for (int g = 0; g < groups; g++) {
            float scale = d * scaleCodes[g];
            float min = dmin * minCodes[g];
            assignAffine(x, offset + g * groupSize, groupSize, qmax, scale, -min, groupCodes);
            System.arraycopy(groupCodes, 0, codes, g * groupSize, groupSize);
        }
        return new ScaleMinSuperBlock(d, dmin, scaleCodes, minCodes, codes);
    }
}
