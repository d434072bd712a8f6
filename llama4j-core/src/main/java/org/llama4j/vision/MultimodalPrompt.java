package org.llama4j.vision;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.llama4j.tensor.Tensor;

/**
 * A prompt for early fusion: token ids in which every {@code <|patch|>} position is to receive the next row of
 * {@link #patchEmbeddings()} (the projected vision rows of all images' tiles in prompt order) instead of its token
 * embedding. Built from text pieces and encoded images by {@link Builder}, which lays each image out exactly like
 * Meta's chat format.
 */
public final class MultimodalPrompt {
    private final int[] tokens;
    private final int patchToken;
    private final float[][] patchEmbeddings;
    private final int[] patchPositions;

    /**
     * @throws IllegalArgumentException when the number of {@code patchToken} occurrences differs from the number of
     *         embedding rows, or the rows differ in width
     */
    public MultimodalPrompt(int[] tokens, int patchToken, float[][] patchEmbeddings) {
        this.tokens = tokens.clone();
        this.patchToken = patchToken;
        this.patchEmbeddings = patchEmbeddings.clone();
        this.patchPositions = java.util.stream.IntStream.range(0, tokens.length).filter(i -> tokens[i] == patchToken)
                .toArray();
        if (patchPositions.length != patchEmbeddings.length) {
            throw new IllegalArgumentException("prompt has " + patchPositions.length + " <|patch|> tokens (id "
                    + patchToken + ") but " + patchEmbeddings.length + " vision embedding rows");
        }
        for (float[] row : patchEmbeddings) {
            if (row.length != patchEmbeddings[0].length) {
                throw new IllegalArgumentException("vision embedding rows differ in width: " + row.length + " vs "
                        + patchEmbeddings[0].length);
            }
        }
    }

    /** A prompt without images: every position takes its token embedding. */
    public static MultimodalPrompt textOnly(int[] tokens) {
        return new MultimodalPrompt(tokens, -1, new float[0][]);
    }

    public static Builder builder(ImageTokens ids, int tokensPerTile) {
        return new Builder(ids, tokensPerTile);
    }

    public int[] tokens() {
        return tokens.clone();
    }

    public int length() {
        return tokens.length;
    }

    /** Whether any position takes a vision embedding. */
    public boolean hasImages() {
        return patchEmbeddings.length > 0;
    }

    public int patchToken() {
        return patchToken;
    }

    /** Row i replaces the token embedding at {@code patchPositions()[i]}. */
    public float[][] patchEmbeddings() {
        return patchEmbeddings.clone();
    }

    public int[] patchPositions() {
        return patchPositions.clone();
    }

    /** The vision row for a position, or null when the position takes its ordinary token embedding. */
    public float[] visionEmbeddingAt(int position) {
        int i = Arrays.binarySearch(patchPositions, position);
        return i >= 0 ? patchEmbeddings[i] : null;
    }

    /**
     * Meta's {@code h = tok_embeddings(tokens) * (1 - mask) + vision * mask}: the input of text layer 0, one row per
     * position, from the text model's embedding table (ggml shape {hidden, vocab}).
     */
    public float[][] fuse(Tensor tokenEmbeddings) {
        int hidden = Math.toIntExact(tokenEmbeddings.rowLength());
        if (patchEmbeddings.length > 0 && patchEmbeddings[0].length != hidden) {
            throw new IllegalArgumentException("vision rows have width " + patchEmbeddings[0].length
                    + " but the token embeddings have hidden size " + hidden);
        }
        float[][] out = new float[tokens.length][];
        int next = 0;
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == patchToken) {
                out[i] = patchEmbeddings[next++].clone();
            } else {
                if (tokens[i] < 0 || tokens[i] >= tokenEmbeddings.rowCount()) {
                    throw new IllegalArgumentException("token id " + tokens[i] + " at position " + i
                            + " is outside the vocabulary of " + tokenEmbeddings.rowCount());
                }
                out[i] = new float[hidden];
                tokenEmbeddings.dequantizeRow(tokens[i], out[i], 0);
            }
        }
        return out;
    }

    /** Assembles text pieces and images in order. */
    public static final class Builder {
        private final ImageTokens ids;
        private final int tokensPerTile;
        private final List<int[]> pieces = new ArrayList<>();
        private final List<float[]> rows = new ArrayList<>();

        private Builder(ImageTokens ids, int tokensPerTile) {
            this.ids = ids;
            this.tokensPerTile = tokensPerTile;
        }

        /** Already tokenized text (including any special tokens); it must not contain {@code <|patch|>}. */
        public Builder text(int... tokenIds) {
            for (int t : tokenIds) {
                if (t == ids.patch()) {
                    throw new IllegalArgumentException("text contains the <|patch|> token " + t
                            + "; images must be added with image(...)");
                }
            }
            pieces.add(tokenIds.clone());
            return this;
        }

        /** An image's token layout and its projected rows ({@link VisionEncoder#encode}). */
        public Builder image(TilePlan plan, float[][] embeddings) {
            int expected = plan.totalTiles() * tokensPerTile;
            if (embeddings.length != expected) {
                throw new IllegalArgumentException("a " + plan.rows() + "x" + plan.cols() + " image with "
                        + plan.totalTiles() + " tiles needs " + expected + " vision rows, got " + embeddings.length);
            }
            pieces.add(ids.layout(plan, tokensPerTile));
            rows.addAll(Arrays.asList(embeddings));
            return this;
        }

        public MultimodalPrompt build() {
            int n = pieces.stream().mapToInt(p -> p.length).sum();
            int[] all = new int[n];
            int i = 0;
            for (int[] p : pieces) {
                System.arraycopy(p, 0, all, i, p.length);
                i += p.length;
            }
            return new MultimodalPrompt(all, ids.patch(), rows.toArray(new float[0][]));
        }
    }
}
