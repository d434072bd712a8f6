package org.llama4j.vision;

/**
 * How one image is cut into tiles: the chosen canvas (a multiple of the tile size in both directions), the size
 * the image is resized to before being pasted at the canvas' top-left corner, and the resulting grid.
 */
public record TilePlan(int imageWidth, int imageHeight, int canvasWidth, int canvasHeight,
                       int resizedWidth, int resizedHeight, int tileSize) {
    public TilePlan {
        if (canvasWidth % tileSize != 0 || canvasHeight % tileSize != 0) {
            throw new IllegalArgumentException("canvas " + canvasWidth + "x" + canvasHeight
                    + " is not a multiple of the tile size " + tileSize);
        }
        if (resizedWidth > canvasWidth || resizedHeight > canvasHeight || resizedWidth < 1 || resizedHeight < 1) {
            throw new IllegalArgumentException("resized " + resizedWidth + "x" + resizedHeight + " does not fit canvas "
                    + canvasWidth + "x" + canvasHeight);
        }
    }

    /** Tile rows (Meta's {@code ratio_h}). */
    public int rows() {
        return canvasHeight / tileSize;
    }

    /** Tile columns (Meta's {@code ratio_w}). */
    public int cols() {
        return canvasWidth / tileSize;
    }

    public int localTiles() {
        return rows() * cols();
    }

    /** A global thumbnail tile is appended whenever the image spans more than one tile. */
    public boolean hasGlobalTile() {
        return localTiles() > 1;
    }

    /** Tiles fed to the vision encoder: the local ones plus the global one where there is one. */
    public int totalTiles() {
        return localTiles() + (hasGlobalTile() ? 1 : 0);
    }
}
