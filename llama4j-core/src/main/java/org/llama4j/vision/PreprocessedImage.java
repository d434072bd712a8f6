package org.llama4j.vision;

/**
 * An image ready for the vision encoder: {@code tiles[t]} holds tile t as normalised float32 pixels in
 * channel-major order ({@code [3][S][S]}, PyTorch's {@code pixel_values[t]}); local tiles row-major, then the
 * global thumbnail last when {@link TilePlan#hasGlobalTile()}.
 */
public record PreprocessedImage(TilePlan plan, float[][] tiles) {
    public PreprocessedImage {
        if (tiles.length != plan.totalTiles()) {
            throw new IllegalArgumentException("plan needs " + plan.totalTiles() + " tiles, got " + tiles.length);
        }
        int size = 3 * plan.tileSize() * plan.tileSize();
        for (float[] t : tiles) {
            if (t.length != size) {
                throw new IllegalArgumentException("a tile needs " + size + " values, got " + t.length);
            }
        }
    }

    public int tileCount() {
        return tiles.length;
    }

    public int tileSize() {
        return plan.tileSize();
    }
}
