package org.llama4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.testing.Fixtures;

class ImageLoaderTest {
    private final ImageLoader loader = new ImageLoader();

    private static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(img, format, out)).as("a %s writer exists", format).isTrue();
        return out.toByteArray();
    }

    @Test
    void dataUrlDecodesLikeTheFile() throws IOException {
        Path png = Fixtures.require("llama4-vision-tiny/images/tall_70x170_rgba.png");
        String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(png));
        RgbImage fromUrl = loader.load(url);
        RgbImage fromFile = loader.load(png.toString());
        assertThat(fromUrl.rgb()).isEqualTo(fromFile.rgb());
        assertThat(loader.load(Files.readAllBytes(png)).rgb()).isEqualTo(fromFile.rgb());
    }

    @Test
    void badDataUrls() {
        assertThatThrownBy(() -> loader.loadDataUrl("data:text/plain;base64,aGVsbG8="))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("text/plain");
        assertThatThrownBy(() -> loader.loadDataUrl("data:image/png;base64,%%%%"))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("malformed base64");
        assertThatThrownBy(() -> loader.loadDataUrl("data:image/png;base64"))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("','");
        assertThatThrownBy(() -> loader.loadDataUrl("data:image/png;base64,aGVsbG8gd29ybGQ="))
                .isInstanceOf(ImageLoadException.class).hasMessageContaining("not a supported image format");
    }

    @Test
    void missingEmptyAndCorruptFiles(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> loader.load(dir.resolve("nope.png"))).isInstanceOf(ImageLoadException.class)
                .hasMessageContaining("not found");
        assertThatThrownBy(() -> loader.load(new byte[0])).hasMessageContaining("empty");
        byte[] png = Files.readAllBytes(Fixtures.require("llama4-vision-tiny/images/gray_120.png"));
        byte[] truncated = Arrays.copyOf(png, png.length / 2);
        assertThatThrownBy(() -> loader.load(truncated)).isInstanceOf(ImageLoadException.class)
                .hasMessageContaining("corrupt");
        byte[] jpeg = Files.readAllBytes(Fixtures.require("llama4-vision-tiny/images/wide_200x90.jpg"));
        assertThatThrownBy(() -> loader.load(Arrays.copyOf(jpeg, 40))).isInstanceOf(ImageLoadException.class);
    }

    @Test
    void pixelLimitIsCheckedFromTheHeaderBeforeDecoding() {
        // A PNG whose IHDR claims 100000 x 100000 pixels and which has no pixel data at all: the limit must trip
        // on the header alone (decoding would fail differently, or allocate 30 GB).
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        b.putInt(13);
        int crcStart = b.position();
        b.put(new byte[] {'I', 'H', 'D', 'R'}).putInt(100_000).putInt(100_000).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(b.array(), crcStart, 17);
        b.putInt((int) crc.getValue());
        b.putInt(0).put(new byte[] {'I', 'E', 'N', 'D'}).putInt(0xAE426082);
        assertThatThrownBy(() -> loader.load(b.array())).isInstanceOf(ImageLoadException.class)
                .hasMessageContaining("100000x100000").hasMessageContaining("decompression bomb");
        // real, decodable images: the limits trip all the same (self-contained, no fixture needed)
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(new BufferedImage(500, 310, BufferedImage.TYPE_INT_RGB), "png", png);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ImageLoader small = new ImageLoader(1000, 1 << 20);
        assertThatThrownBy(() -> small.load(png.toByteArray()))
                .hasMessageContaining("155000 pixels, more than the limit of 1000");
        ImageLoader tinyBytes = new ImageLoader(1000, 10);
        assertThatThrownBy(() -> tinyBytes.load(png.toByteArray()))
                .hasMessageContaining("more than the limit of 10");
    }

    @Test
    void gifFirstFrameAndBmp() throws IOException {
        byte[] r = {0, (byte) 255, 10};
        byte[] g = {0, 0, 20};
        byte[] bl = {0, 0, 30};
        BufferedImage pal = new BufferedImage(16, 8, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 3, r, g, bl));
        WritableRaster wr = pal.getRaster();
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 16; x++) {
                wr.setSample(x, y, 0, (x + y) % 3);
            }
        }
        byte[] encoded = encode(pal, "gif");
        RgbImage gif = loader.load(encoded);
        assertThat(gif.width()).isEqualTo(16);
        assertThat(Arrays.copyOf(gif.rgb(), 9)).containsExactly(0, 0, 0, -1, 0, 0, 10, 20, 30);
        BufferedImage reference = ImageIO.read(new java.io.ByteArrayInputStream(encoded));
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 16; x++) {
                int argb = reference.getRGB(x, y);
                assertThat(new int[] {gif.get(x, y, 0), gif.get(x, y, 1), gif.get(x, y, 2)})
                        .containsExactly((argb >> 16) & 0xFF, (argb >> 8) & 0xFF, argb & 0xFF);
            }
        }

        BufferedImage rgb = new BufferedImage(2, 2, BufferedImage.TYPE_3BYTE_BGR);
        rgb.setRGB(0, 0, 0x102030);
        rgb.setRGB(1, 0, 0xFFFFFF);
        rgb.setRGB(0, 1, 0x7F0001);
        rgb.setRGB(1, 1, 0x000000);
        RgbImage bmp = loader.load(encode(rgb, "bmp"));
        assertThat(bmp.rgb()).containsExactly(0x10, 0x20, 0x30, -1, -1, -1, 0x7F, 0, 1, 0, 0, 0);
    }

    @Test
    void grayIsReplicatedWithoutColourManagement() throws IOException {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSamples(0, 0, 2, 1, 0, new int[] {77, 200});
        // getRGB() would pass these through the linear-gray colour space and change them; PIL does not.
        RgbImage img = loader.load(encode(gray, "png"));
        assertThat(img.rgb()).containsExactly(77, 77, 77, 200, 200, 200);
    }

    @Test
    void rgbaIsCompositedOverWhiteWithPilRounding() throws IOException {
        BufferedImage argb = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00123456); // fully transparent: hidden colour must not show
        argb.setRGB(1, 0, 0x80FF0000); // alpha 128
        argb.setRGB(2, 0, 0xFF0A0B0C); // opaque
        RgbImage img = loader.load(encode(argb, "png"));
        int half = ImageLoader.div255(255 * 127 + 0 * 128);
        assertThat(img.rgb()).containsExactly(-1, -1, -1, -1, (byte) half, (byte) half, 10, 11, 12);
        assertThat(half).isEqualTo(127);
    }

    @Test
    void webpThroughThePlugin() {
        // The 1x1 lossless WebP that browsers' feature tests use.
        byte[] webp = Base64.getDecoder().decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==");
        RgbImage img = loader.load(webp);
        assertThat(img.width()).isEqualTo(1);
        assertThat(img.height()).isEqualTo(1);
    }

    @Test
    void cmykJpegUsesPilsFormula() throws IOException {
        WritableRaster cmyk = Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, 16, 16, 4, null);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                cmyk.setPixel(x, y, new int[] {0, 255, 255, 64});
            }
        }
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var ios = ImageIO.createImageOutputStream(out)) {
            w.setOutput(ios);
            w.write(null, new IIOImage(cmyk, null, null), null);
        } finally {
            w.dispose();
        }
        RgbImage img = loader.load(out.toByteArray());
        // Plain (non-Adobe) CMYK: R = (255 - K) - C * (255 - K) / 255 = 191, G = B = 0 (JPEG error allowed).
        assertThat(img.get(8, 8, 0)).isBetween(186, 196);
        assertThat(img.get(8, 8, 1)).isBetween(0, 5);
        assertThat(img.get(8, 8, 2)).isBetween(0, 5);
    }
}
