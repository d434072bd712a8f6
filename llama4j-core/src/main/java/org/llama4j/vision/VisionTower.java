package org.llama4j.vision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.LongAdder;
import org.llama4j.format.ModelFormatException;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.format.hf.HfModelFolder;
import org.llama4j.image.ImageInput;
import org.llama4j.image.ImageLoader;

/**
 * Everything that turns images into model input, in one place for the library, the CLI and the server: decoding
 * ({@link ImageLoader}), Meta's preprocessing ({@link ImagePreprocessor}), the vision encoder and projector
 * ({@link VisionEncoder}) and the prompt layout ({@link ImageTokens}). The result is a {@link MultimodalPrompt}:
 * token ids with every image laid out, and the patch embeddings that replace the {@code <|patch|>} rows during
 * the prefill. Thread safe.
 */
public final class VisionTower implements AutoCloseable {
    /** An image after the vision tower: its tiling and its projected rows, tile after tile. */
    public record EncodedImage(TilePlan plan, float[][] embeddings) {
    }

    /** Tiles run through the encoder so far and the time they took. */
    public record EncodeStats(long tiles, long nanos) {
        public double millisPerTile() {
            return tiles == 0 ? 0 : nanos / 1e6 / tiles;
        }
    }

    private final VisionEncoder encoder;
    private final ImagePreprocessor preprocessor;
    private final ImageTokens ids;
    private final ImageLoader loader;
    private final AutoCloseable resources;
    private final LongAdder tilesEncoded = new LongAdder();
    private final LongAdder encodeNanos = new LongAdder();

    /**
     * @param resources closed with the tower (the file the encoder's weights are mapped from), or null
     */
    public VisionTower(VisionEncoder encoder, PreprocessorConfig config, ImageTokens ids, ImageLoader loader,
            AutoCloseable resources) {
        if (config.tileSize() != encoder.geometry().tileSize()) {
            throw new IllegalArgumentException("preprocessing cuts " + config.tileSize() + "-pixel tiles but the vision"
                    + " encoder takes " + encoder.geometry().tileSize());
        }
        this.encoder = encoder;
        this.preprocessor = new ImagePreprocessor(config);
        this.ids = ids;
        this.loader = loader;
        this.resources = resources;
    }

    /** Whether {@code model} is a Hugging Face folder whose {@code config.json} has a {@code vision_config}. */
    public static boolean present(Path model) {
        Path config = model.resolve(HfModelFolder.CONFIG);
        if (!Files.isDirectory(model) || !Files.isRegularFile(config)) {
            return false;
        }
        try {
            JsonNode root = new ObjectMapper().readTree(config.toFile());
            return root != null && root.path("vision_config").isObject();
        } catch (IOException e) {
            throw new ModelFormatException(config + ": cannot parse: " + e.getMessage(), e);
        }
    }

    /**
     * The vision tower of a Hugging Face Llama 4 multimodal folder, with the folder's
     * {@code preprocessor_config.json} (Llama 4's defaults when absent).
     *
     * @param maxTiles overrides {@code max_patches}, the most local tiles per image
     * @throws ModelFormatException when the folder has no vision tower
     */
    public static VisionTower load(Path hfFolder, OptionalInt maxTiles) {
        HfModelFolder folder = HfModelFolder.open(hfFolder);
        try {
            VisionEncoder encoder = VisionEncoder.load(folder);
            int tile = encoder.geometry().tileSize();
            PreprocessorConfig config = folder.preprocessorConfigJson()
                    .map(p -> PreprocessorConfig.read(p, tile)).orElseGet(() -> PreprocessorConfig.defaults(tile));
            if (maxTiles.isPresent()) {
                config = config.withMaxPatches(maxTiles.getAsInt());
            }
            return new VisionTower(encoder, config, ImageTokens.fromConfig(folder.config()), new ImageLoader(), folder);
        } catch (RuntimeException e) {
            folder.close();
            throw e;
        }
    }

    /**
     * The vision tower of a llama.cpp mmproj GGUF ({@code clip.projector_type = llama4}); its preprocessing comes
     * from the file's {@code clip.vision.*} metadata.
     *
     * @param maxTiles  the most local tiles per image (default {@link PreprocessorConfig#DEFAULT_MAX_PATCHES})
     * @param imageTokens the image special tokens of the text model's tokenizer
     */
    public static VisionTower loadMmproj(Path mmproj, OptionalInt maxTiles, ImageTokens imageTokens) {
        GgufFile file = GgufFile.open(mmproj);
        try {
            VisionEncoder encoder = VisionEncoder.load(file);
            PreprocessorConfig config = Mmproj.preprocessorConfig(file,
                    maxTiles.orElse(PreprocessorConfig.DEFAULT_MAX_PATCHES));
            return new VisionTower(encoder, config, imageTokens, new ImageLoader(), file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * The vision tower for a text model: {@code mmproj} when given, else the model's own (a Hugging Face folder
     * with {@code vision_config}), else null.
     *
     * @param textHidden  the text model's hidden size, which the projector must produce
     * @param imageTokens the image special tokens by name (only asked for an mmproj file)
     * @throws ModelFormatException when the tower's projector does not fit the text model
     */
    public static VisionTower forModel(Path model, Path mmproj, OptionalInt maxTiles, int textHidden,
            java.util.function.Supplier<ImageTokens> imageTokens) {
        VisionTower tower = mmproj != null ? loadMmproj(mmproj, maxTiles, imageTokens.get())
                : present(model) ? load(model, maxTiles) : null;
        if (tower != null && tower.encoder.geometry().textHidden() != textHidden) {
            int got = tower.encoder.geometry().textHidden();
            tower.close();
            throw new ModelFormatException((mmproj != null ? mmproj : model) + ": the vision projector produces rows"
                    + " of " + got + " but the text model's hidden size is " + textHidden
                    + ": the vision tower belongs to another model");
        }
        return tower;
    }

    public VisionEncoder encoder() {
        return encoder;
    }

    public PreprocessorConfig preprocessorConfig() {
        return preprocessor.config();
    }

    public ImageTokens imageTokens() {
        return ids;
    }

    public int tokensPerTile() {
        return encoder.geometry().tokensPerTile();
    }

    public EncodeStats stats() {
        return new EncodeStats(tilesEncoded.sum(), encodeNanos.sum());
    }

    /** Decodes and preprocesses an image (no encoder work yet: the plan alone says how many tokens it needs). */
    public PreprocessedImage preprocess(ImageInput image) {
        return preprocessor.preprocess(image.load(loader));
    }

    /** Runs the vision encoder and projector over every tile. */
    public EncodedImage encode(PreprocessedImage image) {
        long t0 = System.nanoTime();
        float[][] rows = encoder.encode(image);
        encodeNanos.add(System.nanoTime() - t0);
        tilesEncoded.add(image.tileCount());
        return new EncodedImage(image.plan(), rows);
    }

    /**
     * Lays the images out in place of the {@code <|image|>} placeholders of a rendered prompt (one per image, in
     * order; see {@link ImageTokens#expandPlaceholders}) and encodes them. The context is checked before any
     * encoder work.
     *
     * @param contextLength the model's context: the prompt must leave room for at least one generated token
     * @param memo          encodings to reuse and to add to (a conversation re-renders its history every turn),
     *                      or null
     * @throws IllegalArgumentException when placeholders and images disagree in number, or the prompt with its
     *         images does not fit the context
     * @throws org.llama4j.image.ImageLoadException when an image cannot be read or decoded
     */
    public MultimodalPrompt prompt(int[] idsWithPlaceholders, List<ImageInput> images, int contextLength,
            Map<ImageInput, EncodedImage> memo) {
        List<TilePlan> plans = new ArrayList<>(images.size());
        List<PreprocessedImage> pending = new ArrayList<>(images.size());
        for (ImageInput image : images) {
            EncodedImage known = memo == null ? null : memo.get(image);
            PreprocessedImage pixels = known == null ? preprocess(image) : null;
            plans.add(known != null ? known.plan() : pixels.plan());
            pending.add(pixels);
        }
        int[] tokens = ids.expandPlaceholders(idsWithPlaceholders, plans, tokensPerTile());
        if (tokens.length >= contextLength) {
            int imageTokens = tokens.length - (idsWithPlaceholders.length - images.size());
            int tiles = plans.stream().mapToInt(TilePlan::totalTiles).sum();
            throw new IllegalArgumentException("the prompt needs " + tokens.length + " tokens, " + imageTokens
                    + " of them for " + images.size() + " image(s) of " + tiles + " tile(s) in all, but the context"
                    + " holds " + contextLength + " (with room for at least one generated token): send fewer or"
                    + " smaller images, or lower the maximum image tiles (now " + preprocessor.config().maxPatches()
                    + ")");
        }
        List<float[]> rows = new ArrayList<>(tokens.length);
        for (int i = 0; i < images.size(); i++) {
            EncodedImage encoded = pending.get(i) == null ? memo.get(images.get(i)) : encode(pending.get(i));
            if (memo != null) {
                memo.putIfAbsent(images.get(i), encoded);
            }
            rows.addAll(List.of(encoded.embeddings()));
        }
        return new MultimodalPrompt(tokens, ids.patch(), rows.toArray(new float[0][]));
    }

    /**
     * A token sequence that already holds image layouts, with its {@code <|patch|>} positions filled in order by
     * the images' rows (image after image, tile after tile) — what a prompt built elsewhere (e.g. by Meta's
     * reference) needs to be replayed exactly.
     *
     * @throws IllegalArgumentException when the number of {@code <|patch|>} positions differs from the rows the
     *         images give
     */
    public MultimodalPrompt fill(int[] tokens, List<ImageInput> images) {
        long patches = java.util.Arrays.stream(tokens).filter(t -> t == ids.patch()).count();
        List<PreprocessedImage> pixels = new ArrayList<>(images.size());
        StringBuilder tiling = new StringBuilder();
        long rowsNeeded = 0;
        for (ImageInput image : images) {
            PreprocessedImage p = preprocess(image);
            pixels.add(p);
            rowsNeeded += (long) p.tileCount() * tokensPerTile();
            tiling.append(tiling.isEmpty() ? "" : ", ").append(image).append(": ").append(p.tileCount())
                    .append(" tile(s)");
        }
        if (patches != rowsNeeded) {
            throw new IllegalArgumentException("the token sequence has " + patches + " <|patch|> positions (id "
                    + ids.patch() + ") but the images give " + rowsNeeded + " rows (" + tiling + ", "
                    + tokensPerTile() + " rows per tile, at most " + preprocessor.config().maxPatches()
                    + " local tiles per image)");
        }
        List<float[]> rows = new ArrayList<>();
        for (PreprocessedImage p : pixels) {
            rows.addAll(List.of(encode(p).embeddings()));
        }
        return new MultimodalPrompt(tokens, ids.patch(), rows.toArray(new float[0][]));
    }

    @Override
    public void close() {
        if (resources != null) {
            try {
                resources.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the vision tower: " + e.getMessage(), e);
            }
        }
    }
}
