package org.llama4j.tokenizer;

import java.nio.file.Path;

/**
 * Prints how long {@link TokenizerLoader#load} takes on a tokenizer file (a measurement, not a test):
 * {@code java -cp ... org.llama4j.tokenizer.TokenizerLoadTiming path/to/tokenizer.json [runs]}.
 */
public final class TokenizerLoadTiming {
    private TokenizerLoadTiming() {
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            Object tokenizer = TokenizerLoader.load(path);
            long t1 = System.nanoTime();
            System.out.printf("run %d: %.0f ms (%s)%n", i, (t1 - t0) / 1e6, tokenizer.getClass().getSimpleName());
        }
    }
}
