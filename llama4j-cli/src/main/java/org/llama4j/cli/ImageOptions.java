package org.llama4j.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.llama4j.api.LoadOptions;
import org.llama4j.image.ImageInput;
import org.llama4j.vision.VisionTower;
import picocli.CommandLine.Option;

/** Image options shared by {@code generate}, {@code chat} and {@code logits}. */
final class ImageOptions {
    @Option(names = "--image", paramLabel = "FILE",
            description = "An image (a file or a data: URL) shown to the model, in order (repeatable).")
    List<String> images = new ArrayList<>();

    @Option(names = "--max-image-tiles", paramLabel = "N",
            description = "Cut images into at most N local tiles (default: max_patches of preprocessor_config.json,"
                    + " else 16).")
    Integer maxImageTiles;

    @Option(names = "--mmproj", paramLabel = "FILE",
            description = "The vision tower as a llama.cpp mmproj GGUF, for a text-only GGUF model.")
    java.nio.file.Path mmproj;

    List<ImageInput> inputs() {
        return images.stream().map(ImageInput::of).toList();
    }

    LoadOptions loadOptions() {
        LoadOptions o = LoadOptions.defaults().withMmproj(mmproj);
        return maxImageTiles == null ? o : o.withMaxImageTiles(maxImageTiles);
    }

    java.util.OptionalInt maxTiles() {
        return loadOptions().maxImageTiles() == 0 ? java.util.OptionalInt.empty()
                : java.util.OptionalInt.of(loadOptions().maxImageTiles());
    }

    /** The encoder's cost so far, for --verbose. */
    static void printStats(PrintWriter err, VisionTower tower) {
        VisionTower.EncodeStats s = tower.stats();
        if (s.tiles() > 0) {
            err.printf(Locale.ROOT, "vision: %d tiles encoded in %.1f ms (%.1f ms per tile)%n", s.tiles(),
                    s.nanos() / 1e6, s.millisPerTile());
            err.flush();
        }
    }
}
