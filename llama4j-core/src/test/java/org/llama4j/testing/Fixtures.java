package org.llama4j.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Finds the shared test fixtures at {@code ../shared/fixtures} relative to the repository root (not the Maven
 * module folder, where surefire runs). When they are absent a fixture test is skipped with a message, except
 * under {@code CI=true}, where it fails: a green CI run must mean the fixtures were checked. At JVM exit it
 * prints how many fixture suites ran and how many were skipped.
 */
public final class Fixtures {
    private static final AtomicInteger RAN = new AtomicInteger();
    private static final AtomicInteger SKIPPED = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (RAN.get() + SKIPPED.get() > 0) {
                System.out.printf("[llama4j fixtures] %d fixture suite(s) ran, %d skipped (fixtures at %s)%n",
                        RAN.get(), SKIPPED.get(), root());
            }
        }));
    }

    private Fixtures() {
    }

    /** The repository root: the system property set by the build, else the nearest folder holding mvnw. */
    public static Path repoRoot() {
        String prop = System.getProperty("llama4j.repo.root");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        Path p = Path.of("").toAbsolutePath();
        for (Path q = p; q != null; q = q.getParent()) {
            if (Files.exists(q.resolve("mvnw")) && Files.exists(q.resolve("pom.xml"))) {
                return q;
            }
        }
        return p;
    }

    public static Path root() {
        return repoRoot().resolve("../shared/fixtures").normalize();
    }

    /**
     * Returns {@code ../shared/fixtures/<relative>}, or skips the calling test (fails it under CI=true)
     * when it does not exist. Call once per suite, e.g. from {@code @BeforeAll}.
     */
    public static Path require(String relative) {
        Path p = root().resolve(relative);
        if (Files.exists(p)) {
            RAN.incrementAndGet();
            return p;
        }
        SKIPPED.incrementAndGet();
        String msg = "fixture " + p + " is absent: skipping (the shared fixtures live at ../shared/fixtures"
                + " beside the repository)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("CI=true but " + msg);
        }
        assumeTrue(false, msg);
        return p;
    }
}
