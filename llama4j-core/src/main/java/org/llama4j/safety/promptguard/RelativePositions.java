package org.llama4j.safety.promptguard;

/**
 * DeBERTa's relative positions {@code r(i, j) = i − j} and their log buckets ({@code make_log_bucket_position}):
 * distances up to {@code buckets/2} stay exact, longer ones share logarithmically wider buckets up to
 * {@code maxPosition}. Computed in float32 as PyTorch does, since the bucket edge is a {@code ceil}.
 */
public final class RelativePositions {
    private RelativePositions() {
    }

    /** The bucket of relative position {@code r}; {@code buckets <= 0} means no bucketing. */
    public static int bucket(int r, int buckets, int maxPosition) {
        if (buckets <= 0) {
            return r;
        }
        int mid = buckets / 2;
        int abs = Math.abs(r);
        if (abs <= mid) {
            return r;
        }
        float ratio = (float) abs / (float) mid;
        float logRatio = (float) Math.log(ratio);
        float logMax = (float) Math.log((float) ((maxPosition - 1) / (double) mid));
        float scaled = logRatio / logMax * (float) (mid - 1);
        int logPos = (int) Math.ceil(scaled) + mid;
        return r < 0 ? -logPos : logPos;
    }

    /**
     * The bucket of every relative position of a sequence of {@code length} tokens, indexed by {@code i − j +
     * length − 1}.
     */
    static int[] bucketTable(int length, int buckets, int maxPosition) {
        int[] table = new int[2 * length - 1];
        for (int d = -(length - 1); d <= length - 1; d++) {
            table[d + length - 1] = bucket(d, buckets, maxPosition);
        }
        return table;
    }
}
