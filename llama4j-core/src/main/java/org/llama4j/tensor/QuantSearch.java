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
        if (grid instanceof IntRange(int lowest, int highest) && ScaleSweep.supports(lowest, highest)
                && Float.isFinite(scale)) {
            ScaleSweep.nearestCodes(x, offset, n, 0f, scale, lowest, highest, codes, codeOffset);
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
        // The extreme value goes to either end of the grid (they differ for asymmetric grids such as -8..7).
        float[] candidates = new float[ScaleSweep.lanes(2 * (2 * SWEEP + 1))];
        int count = 0;
        for (float end : new float[] {grid.level(0), grid.level(grid.size() - 1)}) {
            if (end == 0f) {
                continue;
            }
            for (int k = -SWEEP; k <= SWEEP; k++) {
                candidates[count++] = extreme / (end * (1f + k * SWEEP_STEP));
            }
        }
        double[] sxl = new double[candidates.length];
        double[] sll = new double[candidates.length];
        levelSums(x, offset, n, grid, candidates, count, sxl, sll);
        // Only the scale that produced the best codes is remembered; the codes are re-derived from it at the end.
        float bestScale = 0f;
        float bestCodesScale = Float.NaN;
        double bestGain = -1;
        for (int t = 0; t < count; t++) {
            if (gain(sxl[t], sll[t]) > bestGain) {
                bestGain = gain(sxl[t], sll[t]);
                bestScale = (float) optimalScale(sxl[t], sll[t]);
                bestCodesScale = candidates[t];
            }
        }
        float[] refined = new float[ScaleSweep.lanes(1)];
        for (int r = 0; r < REFINEMENTS && bestScale != 0f; r++) {
            refined[0] = bestScale;
            levelSums(x, offset, n, grid, refined, 1, sxl, sll);
            if (gain(sxl[0], sll[0]) <= bestGain) {
                break;
            }
            bestGain = gain(sxl[0], sll[0]);
            bestCodesScale = bestScale;
            bestScale = (float) optimalScale(sxl[0], sll[0]);
        }
        if (!Float.isNaN(bestCodesScale)) {
            assign(x, offset, n, grid, bestCodesScale, codes, codeOffset);
        }
        return bestScale;
    }

    /**
     * For fixed codes, the optimal scale {@code sum(x*l)/sum(l*l)} (0 when every level is 0)...
     */
    private static double optimalScale(double sxl, double sll) {
        return sll == 0 ? 0 : sxl / sll;
    }

    /** ...and the error reduction it achieves, {@code sum(x*l)^2/sum(l*l)} (the squared error is sum(x*x) minus that). */
    private static double gain(double sxl, double sll) {
        return sll == 0 ? 0 : sxl * sxl / sll;
    }

    /**
     * For each candidate scale {@code scales[t]} ({@code t < count}): {@code sxl[t] = sum(x*l)} and
     * {@code sll[t] = sum(l*l)} over the levels {@link #assign} picks for it, summed in index order. Integer grids
     * evaluate a vector of candidates at once ({@link ScaleSweep}, bit-identical); arrays have
     * {@link ScaleSweep#lanes} entries.
     */
    private static void levelSums(float[] x, int offset, int n, Grid grid, float[] scales, int count, double[] sxl,
            double[] sll) {
        // a single candidate (the refinements) is cheaper one value at a time than in a mostly idle vector
        if (count > 1 && grid instanceof IntRange(int lowest, int highest) && ScaleSweep.supports(lowest, highest)
                && allFiniteNonZero(scales, count)) {
            double[] levelSum = new double[scales.length];
            ScaleSweep.codeSums(x, offset, n, 0f, lowest, highest, scales, count, levelSum, sll, sxl);
            return;
        }
        int[] trial = new int[n];
        for (int t = 0; t < count; t++) {
            assign(x, offset, n, grid, scales[t], trial, 0);
            double sumXL = 0;
            double sumLL = 0;
            for (int i = 0; i < n; i++) {
                double l = grid.level(trial[i]);
                sumXL += x[offset + i] * l;
                sumLL += l * l;
            }
            sxl[t] = sumXL;
            sll[t] = sumLL;
        }
    }

    private static boolean allFiniteNonZero(float[] scales, int count) {
        for (int t = 0; t < count; t++) {
            if (scales[t] == 0f || !Float.isFinite(scales[t])) {
                return false;
            }
        }
        return true;
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
        float[] candidates = new float[ScaleSweep.lanes(2 * SWEEP + 1)];
        int count = 0;
        for (int k = -SWEEP; k <= SWEEP; k++) {
            candidates[count++] = (max - min) / (qmax * (1f + k * SWEEP_STEP));
        }
        double[][] fits = affineFits(x, offset, n, qmax, offsetAtMostZero, candidates, count, min);
        // Only the scale and offset that produced the best codes are remembered; the codes are re-derived at the end.
        double[] best = {(max - min) / qmax, min, Double.POSITIVE_INFINITY};
        float bestCodesScale = Float.NaN;
        float bestCodesOffset = Float.NaN;
        for (int t = 0; t < count; t++) {
            if (fits[2][t] < best[2]) {
                best = new double[] {fits[0][t], fits[1][t], fits[2][t]};
                bestCodesScale = candidates[t];
                bestCodesOffset = min;
            }
        }
        int[] trial = new int[n];
        for (int r = 0; r < REFINEMENTS; r++) {
            assignAffine(x, offset, n, qmax, (float) best[0], (float) best[1], trial);
            double[] fit = leastSquaresAffine(x, offset, n, trial, offsetAtMostZero);
            if (fit[2] >= best[2]) {
                break;
            }
            bestCodesScale = (float) best[0];
            bestCodesOffset = (float) best[1];
            best = fit;
        }
        if (!Float.isNaN(bestCodesScale)) {
            assignAffine(x, offset, n, qmax, bestCodesScale, bestCodesOffset, trial);
            System.arraycopy(trial, 0, q, qOffset, n);
        }
        return new float[] {(float) best[0], (float) best[1]};
    }

    /**
     * {scale[], offset[], squared error[]} of the least-squares affine fit of the codes {@link #assignAffine}
     * picks for each candidate scale (with offset {@code valueOffset}). A vector of candidates at a time
     * ({@link ScaleSweep}, bit-identical) when every candidate is a positive scale and {@code x - valueOffset}
     * cannot overflow.
     */
    private static double[][] affineFits(float[] x, int offset, int n, int qmax, boolean offsetAtMostZero,
            float[] scales, int count, float valueOffset) {
        double[][] fits = new double[3][scales.length];
        if (!ScaleSweep.supports(0, qmax) || !allPositiveFinite(scales, count)
                || !rangeIsFinite(x, offset, n, valueOffset)) {
            int[] trial = new int[n];
            for (int t = 0; t < count; t++) {
                assignAffine(x, offset, n, qmax, scales[t], valueOffset, trial);
                double[] fit = leastSquaresAffine(x, offset, n, trial, offsetAtMostZero);
                for (int j = 0; j < 3; j++) {
                    fits[j][t] = fit[j];
                }
            }
            return fits;
        }
        double[] sq = new double[scales.length];
        double[] sqq = new double[scales.length];
        double[] sxq = new double[scales.length];
        ScaleSweep.codeSums(x, offset, n, valueOffset, 0, qmax, scales, count, sq, sqq, sxq);
        double sx = sum(x, offset, n);
        for (int t = 0; t < count; t++) {
            double[] fit = affineScaleOffset(n, sq[t], sqq[t], sx, sxq[t], offsetAtMostZero);
            fits[0][t] = fit[0];
            fits[1][t] = fit[1];
        }
        ScaleSweep.affineErrors(x, offset, n, qmax, valueOffset, scales, count, fits[0], fits[1], fits[2]);
        return fits;
    }

    private static boolean allPositiveFinite(float[] scales, int count) {
        for (int t = 0; t < count; t++) {
            if (!(scales[t] > 0f) || scales[t] == Float.POSITIVE_INFINITY) {
                return false;
            }
        }
        return true;
    }

    /** Whether every {@code x[i] - valueOffset} is finite (it overflows for values near ±Float.MAX_VALUE). */
    private static boolean rangeIsFinite(float[] x, int offset, int n, float valueOffset) {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(x[offset + i] - valueOffset)) {
                return false;
            }
        }
        return true;
    }

    /** {@code sum(x)} in index order, in double. */
    private static double sum(float[] x, int offset, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += x[offset + i];
        }
        return s;
    }

    /** The codes nearest to {@code (x - offset) / scale} in {@code 0..qmax}. */
    static void assignAffine(float[] x, int offset, int n, int qmax, float scale, float valueOffset, int[] q) {
        if (scale > 0f && Float.isFinite(scale) && ScaleSweep.supports(0, qmax)
                && rangeIsFinite(x, offset, n, valueOffset)) {
            ScaleSweep.nearestCodes(x, offset, n, valueOffset, scale, 0, qmax, q, 0);
            return;
        }
        for (int i = 0; i < n; i++) {
            q[i] = scale <= 0f ? 0 : (int) Math.clamp(Math.rint((x[offset + i] - valueOffset) / scale), 0, qmax);
        }
    }

    /** Least-squares {scale, offset, squared error} for fixed codes. */
    private static double[] leastSquaresAffine(float[] x, int offset, int n, int[] q, boolean offsetAtMostZero) {
        double sq = 0;
        double sqq = 0;
        double sxq = 0;
        for (int i = 0; i < n; i++) {
            double v = x[offset + i];
            sq += q[i];
            sqq += (double) q[i] * q[i];
            sxq += v * q[i];
        }
        double[] fit = affineScaleOffset(n, sq, sqq, sum(x, offset, n), sxq, offsetAtMostZero);
        double scale = fit[0];
        double off = fit[1];
        double err = 0;
        for (int i = 0; i < n; i++) {
            double e = x[offset + i] - (scale * q[i] + off);
            err += e * e;
        }
        return new double[] {scale, off, err};
    }

    /** The least-squares {scale, offset} from the sums of the codes {@code q}, the values {@code x} and their products. */
    private static double[] affineScaleOffset(int n, double sq, double sqq, double sx, double sxq,
            boolean offsetAtMostZero) {
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
        return new double[] {scale, off};
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
