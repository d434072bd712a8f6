package org.llama4j.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.gguf.GgufTensorInfo;
import org.llama4j.format.gguf.GgufWriter;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.tensor.BlockTensor;
import org.llama4j.tensor.GgmlType;

/**
 * The fixture's vision tower converted to llama.cpp's mmproj layout: the file's names, types, shapes and metadata,
 * encoder outputs identical to the HF folder's, and specific errors for files that are not a Llama 4 mmproj.
 */
class MmprojFixtureTest {
    /** Float32 summation-order noise, far below any layout mistake (those are O(1)). */
    private static final float ROUNDING = 1e-5f;

    @TempDir
    static Path tmp;
    static VisionFixture fx;
    static HfModelFolder folder;
    static VisionEncoder fromHf;
    static Path bf16;

    @BeforeAll
    static void convert() throws IOException {
        fx = VisionFixture.load();
        folder = HfModelFolder.open(fx.dir);
        fromHf = VisionEncoder.load(folder);
        bf16 = tmp.resolve("mmproj-bf16.gguf");
        MmprojWriter.write(folder, bf16, GgmlType.BF16);
    }

    @AfterAll
    static void close() {
        if (folder != null) {
            folder.close();
        }
    }

    @Test
    void tensorNamesTypesAndShapesAreLlamaCppsConverters() {
        // name -> "TYPE [ne0, ne1]"; written out by hand from convert_hf_to_gguf.py (Llama4VisionModel) + gguf-py
        Map<String, String> expected = new TreeMap<>();
        expected.put("v.patch_embd.weight", "F32 [588, 32]");
        expected.put("v.class_embd", "F32 [32]");
        expected.put("v.position_embd.weight", "F32 [32, 17]");
        for (String ln : new String[] {"v.pre_ln", "v.post_ln"}) {
            expected.put(ln + ".weight", "F32 [32]");
            expected.put(ln + ".bias", "F32 [32]");
        }
        for (int l = 0; l < 2; l++) {
            String b = "v.blk." + l + ".";
            for (String m : new String[] {"attn_q", "attn_k", "attn_v", "attn_out"}) {
                expected.put(b + m + ".weight", "BF16 [32, 32]");
                expected.put(b + m + ".bias", "F32 [32]");
            }
            for (String ln : new String[] {"ln1", "ln2"}) {
                expected.put(b + ln + ".weight", "F32 [32]");
                expected.put(b + ln + ".bias", "F32 [32]");
            }
            expected.put(b + "ffn_up.weight", "BF16 [32, 128]");
            expected.put(b + "ffn_up.bias", "F32 [128]");
            expected.put(b + "ffn_down.weight", "BF16 [128, 32]");
            expected.put(b + "ffn_down.bias", "F32 [32]");
        }
        expected.put("mm.model.mlp.1.weight", "BF16 [128, 64]");
        expected.put("mm.model.mlp.2.weight", "BF16 [64, 64]");
        expected.put("mm.model.fc.weight", "BF16 [64, 32]");
        try (GgufFile f = GgufFile.open(bf16)) {
            Map<String, String> actual = new TreeMap<>();
            for (GgufTensorInfo t : f.tensorInfos()) {
                BlockTensor bt = (BlockTensor) f.tensor(t.name());
                actual.put(t.name(), bt.type() + " " + Arrays.toString(bt.shape()));
            }
            assertThat(actual).isEqualTo(expected);
            // values are the HF values, untransposed (the unfold matrix is stored as is)
            assertThat(f.tensor("v.patch_embd.weight").toFloatArray())
                    .containsExactly(folder.tensor("vision_model.patch_embedding.linear.weight").toFloatArray());
            assertThat(f.tensor("v.position_embd.weight").toFloatArray())
                    .containsExactly(folder.tensor("vision_model.positional_embedding_vlm").toFloatArray());
        }
    }

    @Test
    void metadataIsWhatClipCppReads() {
        try (GgufFile f = GgufFile.open(bf16)) {
            assertThat(f.getString("general.architecture")).isEqualTo("clip");
            assertThat(f.getString("general.type")).isEqualTo("mmproj");
            assertThat(f.getInt("general.file_type")).isEqualTo(32);
            assertThat(f.getString("clip.projector_type")).isEqualTo("llama4");
            assertThat(f.getBoolean("clip.has_vision_encoder")).isTrue();
            assertThat(f.getBoolean("clip.use_gelu")).isTrue();
            assertThat(f.getInt("clip.vision.image_size")).isEqualTo(56);
            assertThat(f.getInt("clip.vision.patch_size")).isEqualTo(14);
            assertThat(f.getInt("clip.vision.embedding_length")).isEqualTo(32);
            assertThat(f.getInt("clip.vision.feed_forward_length")).isEqualTo(128);
            assertThat(f.getInt("clip.vision.block_count")).isEqualTo(2);
            assertThat(f.getInt("clip.vision.attention.head_count")).isEqualTo(2);
            assertThat(f.getInt("clip.vision.projection_dim")).isEqualTo(32);
            assertThat(f.getInt("clip.vision.projector.scale_factor")).isEqualTo(2);
            assertThat(f.getFloat("clip.vision.attention.layer_norm_epsilon")).isEqualTo(1e-5f);
            assertThat(f.getFloatArray("clip.vision.image_mean")).containsExactly(0.5f, 0.5f, 0.5f);
            assertThat(f.getFloatArray("clip.vision.image_std")).containsExactly(0.5f, 0.5f, 0.5f);
            PreprocessorConfig pre = Mmproj.preprocessorConfig(f, 16);
            assertThat(pre.tileSize()).isEqualTo(56);
            assertThat(pre.maxPatches()).isEqualTo(16);
        }
    }

    /**
     * Same weight values through the same code: bf16 and f32 files give the HF folder's outputs up to float
     * rounding (not bit for bit: the JIT may sum vector lanes in another order before and after compiling).
     */
    @Test
    void lossless16And32BitFilesEncodeExactlyLikeTheHfFolder() throws IOException {
        Path f32 = tmp.resolve("mmproj-f32.gguf");
        MmprojWriter.write(folder, f32, GgmlType.F32);
        for (Path file : new Path[] {bf16, f32}) {
            try (GgufFile f = GgufFile.open(file)) {
                VisionEncoder fromGguf = VisionEncoder.load(f);
                assertThat(fromGguf.geometry()).isEqualTo(fromHf.geometry());
                for (String image : new String[] {"wide_200x90", "small_30x20"}) {
                    float[][] tiles = tiles(image);
                    for (float[] tile : tiles) {
                        VisionEncoder.TileTrace a = fromHf.trace(tile);
                        VisionEncoder.TileTrace b = fromGguf.trace(tile);
                        assertThat(maxAbsDiff(b.patchEmbeddings(), a.patchEmbeddings())).isLessThan(ROUNDING);
                        assertThat(maxAbsDiff(b.encoderOutput(), a.encoderOutput())).isLessThan(ROUNDING);
                        assertThat(maxAbsDiff(b.pixelShuffle(), a.pixelShuffle())).isLessThan(ROUNDING);
                        assertThat(maxAbsDiff(b.projected(), a.projected())).isLessThan(ROUNDING);
                    }
                }
            }
        }
    }

    /** A Q8_0 mmproj (a common download) against Meta's goldens, within 8-bit weight rounding. */
    @Test
    void q8MmprojStaysCloseToMeta() throws IOException {
        Path q8 = tmp.resolve("mmproj-q8_0.gguf");
        MmprojWriter.write(folder, q8, GgmlType.Q8_0);
        try (GgufFile f = GgufFile.open(q8)) {
            assertThat(((BlockTensor) f.tensor("v.blk.0.attn_q.weight")).type()).isEqualTo(GgmlType.Q8_0);
            assertThat(((BlockTensor) f.tensor("v.patch_embd.weight")).type()).isEqualTo(GgmlType.F32);
            VisionEncoder enc = VisionEncoder.load(f);
            JsonNode img = fx.image("gray_120");
            float[] expected = fx.floats(img.get("projected_embeddings"));
            float err = 0;
            float scale = 0;
            int row = 0;
            for (float[] tile : tiles("gray_120")) {
                for (float[] got : enc.encodeTile(tile)) {
                    err = Math.max(err, VisionFixture.maxAbsDiff(got, 0, expected, row++ * got.length, got.length));
                }
            }
            assertThat(row * 32).isEqualTo(expected.length);
            for (float v : expected) {
                scale = Math.max(scale, Math.abs(v));
            }
            System.out.printf("[mmproj] Q8_0 projected max abs error %.3g (largest value %.3g)%n", err, scale);
            assertThat(err).isGreaterThan(0f).isLessThan(0.02f * scale);
        }
    }

    @Test
    void aTextModelGgufIsNotAnMmproj() throws IOException {
        Path bad = rewrite("text.gguf", w -> w.putString("general.architecture", "llama4"), n -> true);
        assertThatThrownBy(() -> load(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("not an mmproj file").hasMessageContaining("separate mmproj");
    }

    @Test
    void anotherProjectorTypeIsRefused() throws IOException {
        Path bad = rewrite("gemma.gguf", w -> w.putString("clip.projector_type", "gemma3"), n -> true);
        assertThatThrownBy(() -> load(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("clip.projector_type is 'gemma3', expected 'llama4'");
    }

    @Test
    void metadataThatDisagreesWithTheTensorsIsRefused() throws IOException {
        Path layers = rewrite("layers.gguf", w -> w.putUInt32("clip.vision.block_count", 3), n -> true);
        assertThatThrownBy(() -> load(layers)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("layer count is 3").hasMessageContaining("implies 2");
        Path size = rewrite("size.gguf", w -> w.putUInt32("clip.vision.image_size", 336), n -> true);
        assertThatThrownBy(() -> load(size)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("image size is 336").hasMessageContaining("implies 56");
        Path proj = rewrite("proj.gguf", w -> w.putUInt32("clip.vision.projection_dim", 5120), n -> true);
        assertThatThrownBy(() -> load(proj)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("mm.model.fc.weight").hasMessageContaining("5120");
        Path heads = rewrite("heads.gguf", w -> w.putUInt32("clip.vision.attention.head_count", 3), n -> true);
        assertThatThrownBy(() -> load(heads)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("3 attention heads");
        Path noKey = rewrite("nokey.gguf", w -> w.remove("clip.vision.embedding_length"), n -> true);
        assertThatThrownBy(() -> load(noKey)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("clip.vision.embedding_length");
    }

    @Test
    void aMissingTensorIsNamed() throws IOException {
        Path bad = rewrite("missing.gguf", w -> { }, n -> !n.equals("v.blk.1.ffn_down.weight"));
        assertThatThrownBy(() -> load(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("v.blk.1.ffn_down.weight").hasMessageContaining("missing");
    }

    private static float maxAbsDiff(float[][] a, float[][] b) {
        assertThat(a.length).isEqualTo(b.length);
        float m = 0;
        for (int r = 0; r < a.length; r++) {
            assertThat(a[r].length).isEqualTo(b[r].length);
            m = Math.max(m, VisionFixture.maxAbsDiff(a[r], 0, b[r], 0, a[r].length));
        }
        return m;
    }

    private static void load(Path file) {
        try (GgufFile f = GgufFile.open(file)) {
            VisionEncoder.load(f);
        }
    }

    /** A copy of the bf16 mmproj with edited metadata and only the tensors {@code keep} accepts. */
    private static Path rewrite(String name, Consumer<GgufWriter> edit, Predicate<String> keep) throws IOException {
        Path out = tmp.resolve(name);
        try (GgufFile f = GgufFile.open(bf16)) {
            GgufWriter w = new GgufWriter();
            for (String k : f.keys()) {
                w.put(k, f.typeOf(k), f.get(k));
            }
            edit.accept(w);
            for (GgufTensorInfo t : f.tensorInfos()) {
                if (keep.test(t.name())) {
                    w.addTensor((BlockTensor) f.tensor(t.name()));
                }
            }
            w.write(out);
        }
        return out;
    }

    private static float[][] tiles(String image) {
        JsonNode img = fx.image(image);
        float[] pixels = fx.floats(img.get("pixel_values"));
        int[] s = fx.shape(img.get("pixel_values"));
        int per = s[1] * s[2] * s[3];
        float[][] out = new float[s[0]][];
        for (int t = 0; t < s[0]; t++) {
            out[t] = Arrays.copyOfRange(pixels, t * per, (t + 1) * per);
        }
        return out;
    }
}
