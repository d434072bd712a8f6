package org.llama4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Loads a model for a command, with a progress indicator on stderr while it takes long. */
final class ModelLoading {
    private ModelLoading() {
    }

    static <T> T withProgress(Path model, PrintWriter err, boolean quiet, Supplier<T> load) {
        long t0 = System.nanoTime();
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "load-progress");
            t.setDaemon(true);
            return t;
        });
        if (!quiet) {
            ticker.scheduleAtFixedRate(() -> {
                err.printf(Locale.ROOT, "\rloading %s ... %.1f s", model.getFileName(), (System.nanoTime() - t0) / 1e9);
                err.flush();
            }, 500, 500, TimeUnit.MILLISECONDS);
        }
        try {
            return load.get();
        } finally {
            ticker.shutdownNow();
            if (!quiet && System.nanoTime() - t0 > 500_000_000L) {
                err.printf(Locale.ROOT, "\rloaded %s in %.1f s%n", model.getFileName(), (System.nanoTime() - t0) / 1e9);
                err.flush();
            }
        }
    }
}
