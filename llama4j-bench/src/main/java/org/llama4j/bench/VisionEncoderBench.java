package org.llama4j.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.llama4j.format.gguf.GgufFile;
import org.llama4j.tensor.GgmlType;
import org.llama4j.vision.MmprojWriter;
import org.llama4j.vision.VisionEncoder;

/**
 * Encode time per tile of the Llama 4 vision tower at the released models' size (336-pixel tiles, patch 14,
 * hidden 1408, 16 heads, 34 layers, MLP 5632, adapter 5632 → 4096 → 4096, projector → 5120), on a random-weight
 * mmproj written to a temporary file. Not a unit test: run it by hand.
 *
 * <pre>java ... org.llama4j.bench.VisionEncoderBench [layers=34] [tiles=5] [type=BF16]</pre>
 *
 * Fewer layers give a quicker estimate (the per-layer time is printed; layers are identical in cost).
 */
public final class VisionEncoderBench {
    private VisionEncoderBench() {
    }

    /** Multiply-adds x 2 of one tile: the blocks' linears and attention, then adapter and projector. */
    private static double flops(VisionEncoder.Geometry g, int layers) {
        double n = g.grid() * g.grid() + 1;
        double d = g.dim();
        double perLayer = 2 * n * (4 * d * d + 2 * d * g.mlpDim()) + 4 * n * n * d;
        double tokens = g.tokensPerTile();
        double head = 2 * tokens * ((double) g.shuffle() * g.shuffle() * d * g.adapterDim()
                + (double) g.adapterDim() * g.outputDim() + (double) g.outputDim() * g.textHidden());
        return layers * perLayer + head;
    }

    public static void main(String[] args) throws Exception {
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 34;
        int tiles = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        GgmlType type = args.length > 2 ? GgmlType.valueOf(args[2]) : GgmlType.BF16;
        VisionEncoder.Geometry real = new VisionEncoder.Geometry(336, 14, 24, 1408, 16, layers, 5632, 2, 4096, 4096,
                5120, 1e-5f, 10000.0);
        Path file = Files.createTempFile("llama4j-vision-bench-", ".gguf");
        try {
            long t0 = System.nanoTime();
            MmprojWriter.writeRandom(file, real, type, 42);
            System.out.printf("random %s mmproj, %d layers: %.0f MB written in %.1f s%n", type, layers,
                    Files.size(file) / 1e6, (System.nanoTime() - t0) / 1e9);
            try (GgufFile gguf = GgufFile.open(file)) {
                VisionEncoder encoder = VisionEncoder.load(gguf);
                VisionEncoder.Geometry g = encoder.geometry();
                float[] tile = new float[3 * g.tileSize() * g.tileSize()];
                SplittableRandom rnd = new SplittableRandom(7);
                for (int i = 0; i < tile.length; i++) {
                    tile[i] = (float) (rnd.nextDouble() * 2 - 1);
                }
                encoder.encodeTile(tile); // warm-up: JIT and first touch of the mapped weights
                encoder.encodeTile(tile);
                long best = Long.MAX_VALUE;
                long total = 0;
                for (int i = 0; i < tiles; i++) {
                    long s = System.nanoTime();
                    encoder.encodeTile(tile);
                    long e = System.nanoTime() - s;
                    best = Math.min(best, e);
                    total += e;
                }
                int n = g.grid() * g.grid() + 1;
                double flops = flops(g, layers);
                System.out.printf("%d threads; tile %dx%d, %d tokens, %d layers: mean %.1f ms/tile, best %.1f ms"
                                + " (%.1f GFLOP/s)%n",
                        Runtime.getRuntime().availableProcessors(), g.tileSize(), g.tileSize(), n, layers,
                        total / 1e6 / tiles, best / 1e6, flops / best);
                if (layers != 34) {
                    System.out.printf("at the same GFLOP/s, 34 layers: ~%.0f ms/tile%n",
                            best / 1e6 * flops(g, 34) / flops);
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
