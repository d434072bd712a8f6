package org.llama4j.vision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.image.ImageLoader;
import org.llama4j.image.PillowResize;
import org.llama4j.image.RgbImage;

/** Decoding, canvas choice, Pillow resize and normalised tiles against Meta's goldens, for every fixture image. */
class ImagePreprocessorFixtureTest {
    static VisionFixture fx;
    static ImagePreprocessor pre;

    @BeforeAll
    static void load() {
        fx = VisionFixture.load();
        pre = new ImagePreprocessor(PreprocessorConfig.defaults(fx.index.get("tile_size").asInt())
                .withMaxPatches(fx.index.get("max_num_chunks").asInt()));
    }

    static Stream<String> imageNames() {
        return VisionFixture.load().images().stream().map(n -> n.get("name").asText());
    }

    @ParameterizedTest
    @MethodSource("imageNames")
    void decodesLikePilAfterConvertImageToRgb(String name) {
        JsonNode img = fx.image(name);
        RgbImage decoded = new ImageLoader().load(fx.dir.resolve(img.get("image_file").asText()));
        RgbImage expected = fx.rgb(img.get("decoded_rgb_u8"));
        assertThat(decoded.width()).isEqualTo(img.get("size_wh").get(0).asInt());
        assertThat(decoded.height()).isEqualTo(img.get("size_wh").get(1).asInt());
        assertThat(decoded.rgb()).as("decoded RGB of %s", name).isEqualTo(expected.rgb());
    }

    @ParameterizedTest
    @MethodSource("imageNames")
    void canvasListInMetaOrder(String name) {
        JsonNode img = fx.image(name);
        List<int[]> canvases = ImagePreprocessor.supportedCanvases(fx.index.get("max_num_chunks").asInt(),
                fx.index.get("tile_size").asInt());
        JsonNode expected = img.get("possible_canvases_in_meta_order");
        List<List<Integer>> exp = new ArrayList<>();
        expected.forEach(p -> exp.add(List.of(p.get(0).asInt(), p.get(1).asInt())));
        assertThat(canvases.stream().map(c -> List.of(c[0], c[1])).toList()).isEqualTo(exp);
    }

    @ParameterizedTest
    @MethodSource("imageNames")
    void tilePlanMatchesMeta(String name) {
        JsonNode img = fx.image(name);
        TilePlan plan = pre.plan(img.get("size_wh").get(0).asInt(), img.get("size_wh").get(1).asInt());
        assertThat(new int[] {plan.canvasWidth(), plan.canvasHeight()}).isEqualTo(ints(img.get("canvas_wh")));
        assertThat(new int[] {plan.resizedWidth(), plan.resizedHeight()}).isEqualTo(ints(img.get("resized_wh")));
        assertThat(new int[] {plan.rows(), plan.cols()}).isEqualTo(ints(img.get("aspect_ratio_hw")));
        assertThat(plan.localTiles()).isEqualTo(img.get("num_tiles_local").asInt());
        assertThat(plan.hasGlobalTile()).isEqualTo(img.get("has_global_tile").asBoolean());
    }

    @ParameterizedTest
    @MethodSource("imageNames")
    void pillowBilinearResizeIsBitExact(String name) {
        JsonNode img = fx.image(name);
        RgbImage decoded = fx.rgb(img.get("decoded_rgb_u8"));
        RgbImage expected = fx.rgb(img.get("resized_rgb_u8"));
        RgbImage resized = PillowResize.bilinear(decoded, expected.width(), expected.height());
        assertThat(resized.rgb()).as("resized %s", name).isEqualTo(expected.rgb());
        if (img.has("global_resized_rgb_u8")) {
            RgbImage g = fx.rgb(img.get("global_resized_rgb_u8"));
            assertThat(PillowResize.bilinear(decoded, g.width(), g.height()).rgb()).as("global %s", name)
                    .isEqualTo(g.rgb());
        }
    }

    @ParameterizedTest
    @MethodSource("imageNames")
    void pixelValuesMatchFromDecodedPixels(String name) {
        JsonNode img = fx.image(name);
        PreprocessedImage p = pre.preprocess(fx.rgb(img.get("decoded_rgb_u8")));
        float[] expected = fx.floats(img.get("pixel_values"));
        int[] shape = fx.shape(img.get("pixel_values"));
        assertThat(p.tileCount()).isEqualTo(shape[0]);
        int per = shape[1] * shape[2] * shape[3];
        for (int t = 0; t < p.tileCount(); t++) {
            assertThat(VisionFixture.maxAbsDiff(p.tiles()[t], 0, expected, t * per, per)).as("tile %d of %s", t, name)
                    .isEqualTo(0f);
        }
    }

    private static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    @org.junit.jupiter.api.Test
    void maxPatchesOverrideLimitsTheGrid() {
        ImagePreprocessor four = new ImagePreprocessor(pre.config().withMaxPatches(4));
        TilePlan plan = four.plan(500, 310);
        assertThat(plan.localTiles()).isLessThanOrEqualTo(4);
        assertThat(new int[] {plan.canvasWidth(), plan.canvasHeight()}).isEqualTo(new int[] {112, 112});
        assertThat(new int[] {plan.resizedWidth(), plan.resizedHeight()}).isEqualTo(new int[] {112, 69});
        TilePlan one = new ImagePreprocessor(pre.config().withMaxPatches(1)).plan(500, 310);
        assertThat(one.totalTiles()).isEqualTo(1);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> pre.config().withMaxPatches(0))
                .hasMessageContaining("max_patches");
    }
}
