package org.llama4j.vision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.image.ImageLoader;

/** The vision tower and projector against Meta's float32 goldens: every intermediate of every tile. */
class VisionEncoderFixtureTest {
    /** The fixture README's bound for a float32 implementation on the same bf16 weights. */
    private static final float TOLERANCE = 1e-4f;

    static VisionFixture fx;
    static HfModelFolder folder;
    static VisionEncoder encoder;

    @BeforeAll
    static void load() {
        fx = VisionFixture.load();
        folder = HfModelFolder.open(fx.dir);
        encoder = VisionEncoder.load(folder);
    }

    @AfterAll
    static void close() {
        if (folder != null) {
            folder.close();
        }
    }

    static Stream<String> imageNames() {
        return VisionFixture.load().images().stream().map(n -> n.get("name").asText());
    }

    @Test
    void geometryComesFromTheWeights() {
        VisionEncoder.Geometry g = encoder.geometry();
        assertThat(g.tileSize()).isEqualTo(fx.index.get("tile_size").asInt());
        assertThat(g.patchSize()).isEqualTo(fx.index.get("patch_size").asInt());
        assertThat(g.tokensPerTile()).isEqualTo(fx.index.get("tokens_per_tile").asInt());
        assertThat(g.textHidden()).isEqualTo(Math.toIntExact(folder.tensor("language_model.model.embed_tokens.weight").rowLength()));
    }

    @ParameterizedTest
    @MethodSource("imageNames")
    void everyIntermediateMatchesMeta(String name) {
        JsonNode img = fx.image(name);
        float[] pixels = fx.floats(img.get("pixel_values"));
        int[] ps = fx.shape(img.get("pixel_values"));
        int perTile = ps[1] * ps[2] * ps[3];
        String[] keys = {"patch_embeddings", "encoder_output", "pixel_shuffle_output", "adapter_output",
                "projected_embeddings"};
        float[][] expected = new float[keys.length][];
        for (int k = 0; k < keys.length; k++) {
            expected[k] = fx.floats(img.get(keys[k]));
        }
        float[] maxErr = new float[keys.length];
        for (int t = 0; t < ps[0]; t++) {
            float[] tile = java.util.Arrays.copyOfRange(pixels, t * perTile, (t + 1) * perTile);
            VisionEncoder.TileTrace tr = encoder.trace(tile);
            float[][][] got = {tr.patchEmbeddings(), tr.encoderOutput(), tr.pixelShuffle(), tr.adapterOutput(),
                    tr.projected()};
            for (int k = 0; k < keys.length; k++) {
                int[] shape = fx.shape(img.get(keys[k]));
                assertThat(got[k].length).as(keys[k]).isEqualTo(shape[1]);
                for (int r = 0; r < shape[1]; r++) {
                    assertThat(got[k][r].length).as(keys[k]).isEqualTo(shape[2]);
                    int off = (t * shape[1] + r) * shape[2];
                    maxErr[k] = Math.max(maxErr[k], VisionFixture.maxAbsDiff(got[k][r], 0, expected[k], off, shape[2]));
                }
            }
        }
        System.out.printf("[vision] %s max abs errors: %s%n", name, java.util.Arrays.toString(maxErr));
        for (int k = 0; k < keys.length; k++) {
            assertThat(maxErr[k]).as("%s of %s", keys[k], name).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @ParameterizedTest
    @MethodSource("imageNames")
    void imageFileToProjectedEmbeddings(String name) {
        JsonNode img = fx.image(name);
        ImagePreprocessor pre = new ImagePreprocessor(PreprocessorConfig.read(folder.preprocessorConfigJson().orElseThrow(),
                encoder.geometry().tileSize()));
        PreprocessedImage p = pre.preprocess(new ImageLoader().load(fx.dir.resolve(img.get("image_file").asText())));
        long t0 = System.nanoTime();
        float[][] rows = encoder.encode(p);
        long ns = System.nanoTime() - t0;
        System.out.printf("[vision] %s: %d tiles encoded in %.2f ms (%.2f ms/tile)%n", name, p.tileCount(), ns / 1e6,
                ns / 1e6 / p.tileCount());
        float[] expected = fx.floats(img.get("projected_embeddings"));
        int hidden = encoder.geometry().textHidden();
        assertThat(rows.length * hidden).isEqualTo(expected.length);
        float max = 0;
        for (int r = 0; r < rows.length; r++) {
            max = Math.max(max, VisionFixture.maxAbsDiff(rows[r], 0, expected, r * hidden, hidden));
        }
        assertThat(max).as(name).isLessThanOrEqualTo(TOLERANCE);
    }
}
