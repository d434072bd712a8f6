package org.llama4j.vision;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.function.ToIntFunction;
import org.llama4j.chat.Llama4ChatFormat;

/**
 * The special tokens that lay an image out in a Llama 4 prompt, and the layout itself (Meta
 * {@code ChatFormat._encode_image}, identical to HF {@code Llama4Processor._prompt_split_image}).
 */
public record ImageTokens(int imageStart, int imageEnd, int image, int patch, int tileXSeparator, int tileYSeparator) {
    /** The ids of Llama 4's tokenizer. */
    public static final ImageTokens LLAMA4 = new ImageTokens(200080, 200081, 200090, 200092, 200084, 200085);

    /**
     * Looks the six tokens up by their names in {@link Llama4ChatFormat}, e.g. with a tokenizer's special-token
     * table (throws for unknown names).
     */
    public static ImageTokens byName(ToIntFunction<String> idOf) {
        return new ImageTokens(idOf.applyAsInt(Llama4ChatFormat.IMAGE_START), idOf.applyAsInt(Llama4ChatFormat.IMAGE_END),
                idOf.applyAsInt(Llama4ChatFormat.IMAGE), idOf.applyAsInt(Llama4ChatFormat.PATCH),
                idOf.applyAsInt(Llama4ChatFormat.TILE_X_SEPARATOR), idOf.applyAsInt(Llama4ChatFormat.TILE_Y_SEPARATOR));
    }

    /**
     * Llama 4's ids, with {@code boi_token_index}, {@code eoi_token_index} and {@code image_token_index} (the
     * {@code <|patch|>} id) taken from a multimodal {@code config.json} where present.
     */
    public static ImageTokens fromConfig(JsonNode config) {
        return new ImageTokens(config.path("boi_token_index").asInt(LLAMA4.imageStart),
                config.path("eoi_token_index").asInt(LLAMA4.imageEnd), LLAMA4.image,
                config.path("image_token_index").asInt(LLAMA4.patch), LLAMA4.tileXSeparator, LLAMA4.tileYSeparator);
    }

    /**
     * Replaces every {@code <|image|>} placeholder of a rendered prompt (the Hugging Face template writes one per
     * image content part, as {@code Llama4Processor} expects) by the full layout of the corresponding image, in
     * order. Placeholders only come from the template: message text is encoded as plain text and cannot produce
     * the token.
     *
     * @throws IllegalArgumentException when the number of placeholders differs from the number of images, or the
     *         prompt already holds {@code <|patch|>} tokens
     */
    public int[] expandPlaceholders(int[] promptIds, java.util.List<TilePlan> plans, int tokensPerTile) {
        int placeholders = 0;
        int length = promptIds.length;
        for (int t : promptIds) {
            if (t == patch) {
                throw new IllegalArgumentException("the rendered prompt already contains <|patch|> (id " + patch
                        + "); images are added through <|image|> placeholders only");
            }
            if (t == image) {
                if (placeholders < plans.size()) {
                    length += layoutLength(plans.get(placeholders).rows(), plans.get(placeholders).cols(),
                            tokensPerTile) - 1;
                }
                placeholders++;
            }
        }
        if (placeholders != plans.size()) {
            throw new IllegalArgumentException("the rendered prompt has " + placeholders + " image placeholder(s) ("
                    + Llama4ChatFormat.IMAGE + ") but " + plans.size() + " image(s) were given; the chat template"
                    + " drops image parts it does not render (e.g. images in system or tool messages)");
        }
        int[] out = new int[length];
        int at = 0;
        int next = 0;
        for (int t : promptIds) {
            if (t == image) {
                int[] block = layout(plans.get(next++), tokensPerTile);
                System.arraycopy(block, 0, out, at, block.length);
                at += block.length;
            } else {
                out[at++] = t;
            }
        }
        assert at == length;
        return out;
    }

    /** Tokens of {@link #layout(int, int, int)}. */
    public static int layoutLength(int rows, int cols, int tokensPerTile) {
        boolean grid = rows * cols > 1;
        return 2 + 1 + tokensPerTile + (grid ? rows * cols * tokensPerTile + rows * (cols - 1) + rows : 0);
    }

    /** The layout of an image cut as {@code plan} says, each tile worth {@code tokensPerTile} patch tokens. */
    public int[] layout(TilePlan plan, int tokensPerTile) {
        return layout(plan.rows(), plan.cols(), tokensPerTile);
    }

    /**
     * One tile: {@code <|image_start|> <|image|> <|patch|>×n <|image_end|>}. A grid of rows x cols: per row, the
     * columns' {@code <|patch|>×n} separated by {@code <|tile_x_separator|>}, then {@code <|tile_y_separator|>}
     * after every row including the last; then the global tile as {@code <|image|> <|patch|>×n}; then
     * {@code <|image_end|>}.
     */
    public int[] layout(int rows, int cols, int tokensPerTile) {
        if (rows <= 0 || cols <= 0 || tokensPerTile <= 0) {
            throw new IllegalArgumentException("tile grid " + rows + "x" + cols + " with " + tokensPerTile
                    + " tokens per tile: all must be positive");
        }
        boolean grid = rows * cols > 1;
        int n = layoutLength(rows, cols, tokensPerTile);
        int[] out = new int[n];
        int i = 0;
        out[i++] = imageStart;
        if (grid) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    Arrays.fill(out, i, i + tokensPerTile, patch);
                    i += tokensPerTile;
                    if (c < cols - 1) {
                        out[i++] = tileXSeparator;
                    }
                }
                out[i++] = tileYSeparator;
            }
        }
        out[i++] = image;
        Arrays.fill(out, i, i + tokensPerTile, patch);
        i += tokensPerTile;
        out[i++] = imageEnd;
        assert i == n;
        return out;
    }
}
