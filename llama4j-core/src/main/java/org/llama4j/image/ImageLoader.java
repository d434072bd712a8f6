package org.llama4j.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;

/**
 * Decodes PNG, JPEG, GIF (first frame), BMP and WebP images into {@link RgbImage}s exactly as Meta's Llama 4
 * preprocessing sees them after PIL's decode and {@code convert_image_to_rgb}:
 * <ul>
 * <li>true RGBA (PNG colour type 6, WebP with alpha) is composited over white with PIL's integer blend
 * ({@code paste(image, mask=alpha)} on a white canvas);</li>
 * <li>every other mode is converted like PIL's {@code convert("RGB")}: grayscale is replicated, palettes are
 * looked up, and a palette's or gray+alpha image's transparency is dropped, not composited;</li>
 * <li>CMYK JPEGs are converted with PIL's {@code cmyk2rgb} (Adobe files store inverted CMYK, as PIL assumes).</li>
 * </ul>
 * Only the raw decoded samples are used, never Java2D colour management, because PIL ignores embedded ICC
 * profiles and gamma too.
 *
 * <p>Decompression bombs: the dimensions are read from the header through the {@link ImageReader} and checked
 * against {@link #maxPixels()} before a single pixel is decoded; the encoded size is bounded by
 * {@link #maxBytes()}.
 */
public final class ImageLoader {
    /** PIL's {@code Image.MAX_IMAGE_PIXELS}, the size above which PIL warns about decompression bombs. */
    public static final long DEFAULT_MAX_PIXELS = 89_478_485L;
    public static final long DEFAULT_MAX_BYTES = 256L << 20;

    static {
        // Decoding from memory: never spill to temporary files.
        ImageIO.setUseCache(false);
    }

    private final long maxPixels;
    private final long maxBytes;

    public ImageLoader() {
        this(DEFAULT_MAX_PIXELS, DEFAULT_MAX_BYTES);
    }

    public ImageLoader(long maxPixels, long maxBytes) {
        if (maxPixels <= 0 || maxBytes <= 0) {
            throw new IllegalArgumentException("limits must be positive: maxPixels=" + maxPixels + " maxBytes=" + maxBytes);
        }
        this.maxPixels = maxPixels;
        this.maxBytes = maxBytes;
    }

    public long maxPixels() {
        return maxPixels;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** A {@code data:} URL, or else a file path. */
    public RgbImage load(String source) {
        if (source.regionMatches(true, 0, "data:", 0, 5)) {
            return loadDataUrl(source);
        }
        return load(Path.of(source));
    }

    public RgbImage load(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new ImageLoadException(file + ": image file not found", e);
        } catch (IOException e) {
            throw new ImageLoadException(file + ": cannot read image file: " + e.getMessage(), e);
        }
        if (size > maxBytes) {
            throw new ImageLoadException(file + ": image file has " + size + " bytes, more than the limit of " + maxBytes);
        }
        try {
            return decode(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new ImageLoadException(file + ": cannot read image file: " + e.getMessage(), e);
        }
    }

    public RgbImage load(byte[] data) {
        return decode(data, "image bytes");
    }

    /** {@code data:[<media type>][;base64],<data>}; the media type, when given, must be {@code image/*}. */
    public RgbImage loadDataUrl(String url) {
        String shown = url.length() > 48 ? url.substring(0, 48) + "..." : url;
        if (!url.regionMatches(true, 0, "data:", 0, 5)) {
            throw new ImageLoadException("not a data: URL: " + shown);
        }
        int comma = url.indexOf(',');
        if (comma < 0) {
            throw new ImageLoadException("data: URL without a ',' before its data: " + shown);
        }
        String header = url.substring(5, comma);
        String[] params = header.split(";", -1);
        String mediaType = params[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.isEmpty() && !mediaType.startsWith("image/")) {
            throw new ImageLoadException("data: URL has media type \"" + mediaType + "\", expected image/*");
        }
        boolean base64 = false;
        for (int i = 1; i < params.length; i++) {
            base64 |= params[i].trim().equalsIgnoreCase("base64");
        }
        String payload = url.substring(comma + 1);
        // Base64 makes 3 bytes out of 4 characters: reject before allocating the decoded copy.
        if ((base64 ? payload.length() / 4L * 3 : payload.length()) > maxBytes) {
            throw new ImageLoadException("data: URL holds more than the limit of " + maxBytes + " bytes");
        }
        byte[] data;
        try {
            // Strict base64 (whitespace allowed): the MIME decoder would silently skip garbage.
            data = base64 ? Base64.getDecoder().decode(payload.replaceAll("\\s+", "")) : percentDecode(payload);
        } catch (IllegalArgumentException e) {
            throw new ImageLoadException("data: URL has malformed " + (base64 ? "base64" : "percent-encoded") + " data: "
                    + e.getMessage(), e);
        }
        return decode(data, "data: URL (" + (mediaType.isEmpty() ? "no media type" : mediaType) + ")");
    }

    private static byte[] percentDecode(String s) {
        byte[] out = new byte[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("truncated %-escape at index " + i);
                }
                out[n++] = (byte) Integer.parseInt(s.substring(i + 1, i + 3), 16);
                i += 2;
            } else if (c > 0xFF) {
                throw new IllegalArgumentException("non-Latin-1 character at index " + i);
            } else {
                out[n++] = (byte) c;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Decodes an encoded image; {@code source} names it in error messages. */
    public RgbImage decode(byte[] data, String source) {
        if (data.length == 0) {
            throw new ImageLoadException(source + ": empty image data");
        }
        if (data.length > maxBytes) {
            throw new ImageLoadException(source + ": " + data.length + " bytes, more than the limit of " + maxBytes);
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                byte[] head = java.util.Arrays.copyOf(data, Math.min(12, data.length));
                throw new ImageLoadException(source + ": not a supported image format (PNG, JPEG, GIF, BMP, WebP); "
                        + "first bytes " + HexFormat.ofDelimiter(" ").formatHex(head));
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                return read(reader, source);
            } finally {
                reader.dispose();
            }
        } catch (ImageLoadException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Decoders report corrupt data with IIOException but also with runtime exceptions
            // (array bounds, illegal state): all of them mean "this image is broken".
            throw new ImageLoadException(source + ": corrupt or unsupported image: " + e, e);
        }
    }

    private RgbImage read(ImageReader reader, String source) throws IOException {
        String format = reader.getFormatName().toLowerCase(Locale.ROOT);
        int width = reader.getWidth(0);
        int height = reader.getHeight(0);
        if (width <= 0 || height <= 0) {
            throw new ImageLoadException(source + ": " + format + " header gives an empty size " + width + "x" + height);
        }
        long pixels = (long) width * height;
        if (pixels > maxPixels) {
            throw new ImageLoadException(source + ": " + format + " image is " + width + "x" + height + " = " + pixels
                    + " pixels, more than the limit of " + maxPixels + " (possible decompression bomb)");
        }
        IIOMetadata meta = reader.getImageMetadata(0);
        Raster raster;
        ColorModel colorModel;
        try {
            BufferedImage img = reader.read(0);
            raster = img.getRaster();
            colorModel = img.getColorModel();
        } catch (IIOException e) {
            // The JDK's JPEG reader cannot build a BufferedImage for CMYK/YCCK but returns the raw raster.
            if (!isJpeg(format)) {
                throw e;
            }
            raster = reader.readRaster(0, null);
            if (raster.getNumBands() != 4) {
                throw e;
            }
            return cmykToRgb(raster, adobeTransform(meta));
        }
        if (isJpeg(format) && raster.getNumBands() == 4 && !colorModel.hasAlpha()) {
            // JDK 25 decodes CMYK JPEGs to a CMYK image but with its own inversion convention; the raw raster
            // holds the file's samples, which is what PIL's rules are written against.
            return cmykToRgb(reader.readRaster(0, null), adobeTransform(meta));
        }
        if (raster.getWidth() != width || raster.getHeight() != height) {
            throw new ImageLoadException(source + ": decoded " + raster.getWidth() + "x" + raster.getHeight()
                    + " pixels but the header says " + width + "x" + height);
        }
        return toRgb(raster, colorModel, format, meta, source);
    }

    private static boolean isJpeg(String format) {
        return format.equals("jpeg") || format.equals("jpg");
    }

    private static RgbImage toRgb(Raster raster, ColorModel cm, String format, IIOMetadata meta, String source) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        int bands = raster.getNumBands();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] px = new int[bands];
        if (cm instanceof IndexColorModel icm) {
            // PIL "P" -> RGB: palette lookup, transparency dropped.
            for (int y = 0, o = 0; y < h; y++) {
                for (int x = 0; x < w; x++, o += 3) {
                    int idx = raster.getSample(x, y, 0);
                    out[o] = (byte) icm.getRed(idx);
                    out[o + 1] = (byte) icm.getGreen(idx);
                    out[o + 2] = (byte) icm.getBlue(idx);
                }
            }
            return new RgbImage(w, h, out);
        }
        int[] bits = raster.getSampleModel().getSampleSize();
        if (cm.isAlphaPremultiplied()) {
            throw new ImageLoadException(source + ": premultiplied-alpha " + format + " images are not supported");
        }
        boolean composite = switch (bands) {
            case 1, 2 -> false; // L, LA: gray replicated, alpha dropped (PIL convert("RGB"))
            case 3 -> false;
            case 4 -> cm.hasAlpha() && !pngWithoutAlphaChannel(format, meta);
            default -> throw new ImageLoadException(source + ": " + format + " image with " + bands
                    + " channels is not supported");
        };
        if (bands == 4 && !cm.hasAlpha()) {
            throw new ImageLoadException(source + ": 4-channel " + format + " image without alpha is not supported");
        }
        for (int y = 0, o = 0; y < h; y++) {
            for (int x = 0; x < w; x++, o += 3) {
                raster.getPixel(x, y, px);
                for (int b = 0; b < bands; b++) {
                    px[b] = to8Bit(px[b], bits[b]);
                }
                int r;
                int g;
                int bl;
                if (bands <= 2) {
                    r = g = bl = px[0];
                } else {
                    r = px[0];
                    g = px[1];
                    bl = px[2];
                }
                if (composite) {
                    // PIL paste_mask_L on a white canvas: DIV255(255 * (255 - a) + c * a), rounded.
                    int a = px[3];
                    r = div255(255 * (255 - a) + r * a);
                    g = div255(255 * (255 - a) + g * a);
                    bl = div255(255 * (255 - a) + bl * a);
                }
                out[o] = (byte) r;
                out[o + 1] = (byte) g;
                out[o + 2] = (byte) bl;
            }
        }
        return new RgbImage(w, h, out);
    }

    /** PIL's {@code DIV255}: a / 255 rounded, for 0 <= a <= 255 * 255. */
    static int div255(int a) {
        int t = a + 128;
        return ((t >> 8) + t) >> 8;
    }

    /**
     * Scales a sample to 8 bits the way PIL opens such files: 16-bit PNGs keep the high byte, 1/2/4-bit gray is
     * stretched to 0..255.
     */
    private static int to8Bit(int v, int bits) {
        if (bits == 8) {
            return v;
        }
        if (bits > 8) {
            return v >>> (bits - 8);
        }
        return v * 255 / ((1 << bits) - 1);
    }

    /**
     * The JDK's PNG reader expands an RGB or gray image with a tRNS chunk to an alpha channel. PIL keeps such a file
     * as RGB/L and {@code convert("RGB")} drops the transparency, so Meta does not composite it: neither do we.
     */
    private static boolean pngWithoutAlphaChannel(String format, IIOMetadata meta) {
        if (!format.equals("png") || meta == null) {
            return false;
        }
        Node root = meta.getAsTree("javax_imageio_png_1.0");
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeName().equals("IHDR")) {
                Node type = n.getAttributes().getNamedItem("colorType");
                return type != null && !type.getNodeValue().equals("RGBAlpha") && !type.getNodeValue().equals("GrayAlpha");
            }
        }
        return false;
    }

    /** The Adobe APP14 transform flag of a JPEG (-1 without an Adobe marker). */
    private static int adobeTransform(IIOMetadata meta) {
        if (meta == null) {
            return -1;
        }
        try {
            Node root = meta.getAsTree("javax_imageio_jpeg_image_1.0");
            Node adobe = find(root, "app14Adobe");
            if (adobe == null) {
                return -1;
            }
            Node t = adobe.getAttributes().getNamedItem("transform");
            return t == null ? 0 : Integer.parseInt(t.getNodeValue());
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }

    private static Node find(Node node, String name) {
        if (node.getNodeName().equals(name)) {
            return node;
        }
        for (Node c = node.getFirstChild(); c != null; c = c.getNextSibling()) {
            Node f = find(c, name);
            if (f != null) {
                return f;
            }
        }
        return null;
    }

    /**
     * A 4-channel JPEG as PIL converts it: from the raw decoded samples, YCCK is first turned into CMYK as libjpeg does, Adobe files hold inverted
     * CMYK (PIL's rawmode "CMYK;I"), then PIL's {@code cmyk2rgb}: {@code R = nk - MULDIV255(C, nk)}, nk = 255 - K.
     */
    static RgbImage cmykToRgb(Raster raster, int adobeTransform) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        byte[] out = new byte[w * h * 3];
        int[] p = new int[4];
        boolean inverted = adobeTransform >= 0;
        for (int y = 0, o = 0; y < h; y++) {
            for (int x = 0; x < w; x++, o += 3) {
                raster.getPixel(x, y, p);
                if (adobeTransform == 2) {
                    // libjpeg's ycck_cmyk_convert: CMY = 255 - YCbCr->RGB(Y, Cb, Cr); K unchanged.
                    int yy = p[0];
                    int cb = p[1] - 128;
                    int cr = p[2] - 128;
                    p[0] = 255 - clip8((int) Math.round(yy + 1.402 * cr));
                    p[1] = 255 - clip8((int) Math.round(yy - 0.344136 * cb - 0.714136 * cr));
                    p[2] = 255 - clip8((int) Math.round(yy + 1.772 * cb));
                }
                if (inverted) {
                    for (int i = 0; i < 4; i++) {
                        p[i] = 255 - p[i];
                    }
                }
                int nk = 255 - p[3];
                for (int c = 0; c < 3; c++) {
                    out[o + c] = (byte) clip8(nk - div255(p[c] * nk));
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    private static int clip8(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    @Override
    public String toString() {
        return "ImageLoader[maxPixels=" + maxPixels + ", maxBytes=" + maxBytes + "]";
    }
}
