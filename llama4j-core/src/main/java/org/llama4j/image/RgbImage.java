package org.llama4j.image;

/**
 * An 8-bit RGB image, pixels row-major and channels interleaved ({@code rgb[(y * width + x) * 3 + c]}), the
 * layout of a PIL "RGB" image and of the fixtures' {@code *_rgb_u8} arrays.
 */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if ((long) width * height * 3 != rgb.length) {
            throw new IllegalArgumentException("a " + width + "x" + height + " RGB image needs " + ((long) width * height * 3)
                    + " bytes, got " + rgb.length);
        }
    }

    /** Channel {@code c} of pixel (x, y) as 0..255. */
    public int get(int x, int y, int c) {
        return rgb[(y * width + x) * 3 + c] & 0xFF;
    }
}
