package org.llama4j.tensor;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The candidate sweeps of {@link QuantSearch} on integer grids, one candidate scale per vector lane.
 *
 * <p>The vector runs across candidates, never along a sum: each lane walks the group's values in index order and
 * performs exactly the float and double operations of the one-candidate-at-a-time code (the same division, the
 * same round-to-nearest-even, separate multiplies and adds), so every lane's sums are bit-identical to it. This is
 * what keeps quantized files byte-identical to those of the scalar search while evaluating a lane-width of
 * candidates per instruction.
 *
 * <p>The code choice ({@code clamp}, {@code rint}, widening) is written out in each kernel rather than shared
 * through a helper taking and returning vectors: such a helper, once compiled on its own, loses the vector
 * intrinsics (its argument types are not exact) and is then too big to inline, which made the sweeps several
 * times slower than the scalar code in some runs.
 */
final class ScaleSweep {
    /** The per-lane sums are doubles, as in the scalar search. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats with as many lanes as {@link #D}: code choice happens in float, like {@code x / scale} does. */
    private static final VectorSpecies<Float> F =
            FloatVector.SPECIES_64.withShape(VectorShape.forBitSize(D.vectorBitSize() / 2));
    /** For choosing the codes of one scale: a vector of values at a time (each value's code is independent). */
    private static final VectorSpecies<Float> VALUES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> CODES = IntVector.SPECIES_PREFERRED.withShape(VALUES.vectorShape());
    /**
     * {@code (v + 1.5·2^23) - 1.5·2^23} is {@code Math.rint(v)} for {@code |v| <= 2^22}: the sum lands where float
     * spacing is 1, so it is rounded to an integer, ties to even (1.5·2^23 is even, so parity is kept).
     */
    private static final float ROUND_TO_INTEGER = 0x1.8p23f;
    /** Grid ends beyond this would leave the exact range of {@link #ROUND_TO_INTEGER}. */
    private static final int MAX_ABS_LEVEL = 1 << 22;

    private ScaleSweep() {
    }

    /** Length of the candidate and result arrays for {@code count} candidates: whole vectors. */
    static int lanes(int count) {
        return D.loopBound(count + D.length() - 1);
    }

    /** Whether the sweeps below apply to a grid {@code lowest..highest}. */
    static boolean supports(int lowest, int highest) {
        return Math.abs(lowest) <= MAX_ABS_LEVEL && Math.abs(highest) <= MAX_ABS_LEVEL;
    }

    /**
     * For each candidate {@code s = scales[t]}, {@code t < count} (finite and non-zero), with the codes
     * {@code q_i = clamp(rint((x_i - shift) / s), lowest, highest)}: {@code sq[t] = Σ q_i}, {@code sqq[t] = Σ q_i²}
     * and {@code sxq[t] = Σ x_i·q_i}, summed in index order in double (every {@code x_i - shift} must be finite; a
     * shift of 0 leaves {@code x_i} as it is). With lowest < 0 the codes are a scaled grid's levels, with lowest 0
     * an affine fit's codes. The arrays have {@link #lanes} entries; the candidates past {@code count} are
     * overwritten with 1 and their sums are meaningless.
     */
    static void codeSums(float[] x, int offset, int n, float shift, int lowest, int highest, float[] scales,
            int count, double[] sq, double[] sqq, double[] sxq) {
        Arrays.fill(scales, count, scales.length, 1f);
        FloatVector lo = FloatVector.broadcast(F, lowest);
        FloatVector hi = FloatVector.broadcast(F, highest);
        for (int t = 0; t < count; t += D.length()) {
            FloatVector s = FloatVector.fromArray(F, scales, t);
            DoubleVector sumQ = DoubleVector.zero(D);
            DoubleVector sumQQ = DoubleVector.zero(D);
            DoubleVector sumXQ = DoubleVector.zero(D);
            for (int i = 0; i < n; i++) {
                float xi = x[offset + i];
                FloatVector v = FloatVector.broadcast(F, xi - shift).div(s);
                // clamp, then rint (see ROUND_TO_INTEGER), then widen; written out in each kernel, see the class doc
                FloatVector code = v.max(lo).min(hi).add(ROUND_TO_INTEGER).sub(ROUND_TO_INTEGER);
                DoubleVector q = (DoubleVector) code.convertShape(VectorOperators.F2D, D, 0);
                sumQ = sumQ.add(q);
                sumQQ = sumQQ.add(q.mul(q));
                sumXQ = sumXQ.add(q.mul(xi));
            }
            sumQ.intoArray(sq, t);
            sumQQ.intoArray(sqq, t);
            sumXQ.intoArray(sxq, t);
        }
    }

    /**
     * With the codes of {@link #codeSums} (lowest 0, highest qmax) for candidate {@code t}: {@code err[t] = Σ (x_i - (fitScale[t]·q_i +
     * fitOffset[t]))²}, summed in index order in double. The fit arrays have {@link #lanes} entries.
     */
    static void affineErrors(float[] x, int offset, int n, int qmax, float valueOffset, float[] scales, int count,
            double[] fitScale, double[] fitOffset, double[] err) {
        Arrays.fill(scales, count, scales.length, 1f);
        FloatVector lo = FloatVector.zero(F);
        FloatVector hi = FloatVector.broadcast(F, qmax);
        for (int t = 0; t < count; t += D.length()) {
            FloatVector s = FloatVector.fromArray(F, scales, t);
            DoubleVector a = DoubleVector.fromArray(D, fitScale, t);
            DoubleVector b = DoubleVector.fromArray(D, fitOffset, t);
            DoubleVector sum = DoubleVector.zero(D);
            for (int i = 0; i < n; i++) {
                float xi = x[offset + i];
                FloatVector v = FloatVector.broadcast(F, xi - valueOffset).div(s);
                FloatVector code = v.max(lo).min(hi).add(ROUND_TO_INTEGER).sub(ROUND_TO_INTEGER);
                DoubleVector q = (DoubleVector) code.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector e = DoubleVector.broadcast(D, xi).sub(a.mul(q).add(b));
                sum = sum.add(e.mul(e));
            }
            sum.intoArray(err, t);
        }
    }

    /**
     * {@code codes[codeOffset + i] = clamp(rint((x_i - shift) / scale), lowest, highest) - lowest} for
     * {@code i < n}, with the float operations of the scalar code; {@code scale} must be finite and non-zero and
     * every {@code x_i - shift} finite (a shift of 0 leaves {@code x_i} as it is).
     */
    static void nearestCodes(float[] x, int offset, int n, float shift, float scale, int lowest, int highest,
            int[] codes, int codeOffset) {
        FloatVector lo = FloatVector.broadcast(VALUES, lowest);
        FloatVector hi = FloatVector.broadcast(VALUES, highest);
        for (int i = 0; i < n; i += VALUES.length()) {
            VectorMask<Float> inRange = VALUES.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(VALUES, x, offset + i, inRange).sub(shift).div(scale);
            FloatVector level = v.max(lo).min(hi).add(ROUND_TO_INTEGER).sub(ROUND_TO_INTEGER);
            IntVector code = ((IntVector) level.convertShape(VectorOperators.F2I, CODES, 0)).sub(lowest);
            code.intoArray(codes, codeOffset + i, inRange.cast(CODES));
        }
    }
}
