package org.llama4j.bench.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** Resident memory of this process from {@code /proc/self/status} (Linux); empty elsewhere. */
public final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private ProcessMemory() {
    }

    /** Peak resident set size ({@code VmHWM}) in bytes: mapped weight pages that were touched count too. */
    public static OptionalLong peakResidentBytes() {
        return field("VmHWM:");
    }

    /** Current resident set size ({@code VmRSS}) in bytes. */
    public static OptionalLong residentBytes() {
        return field("VmRSS:");
    }

    /**
     * Restarts the peak at the current resident size (writes 5 to {@code /proc/self/clear_refs}), so a second
     * engine measured in the same process gets its own peak. False when the kernel does not allow it.
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    private static OptionalLong field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return OptionalLong.of(Long.parseLong(parts[0]) * 1024); // always kB
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or an unexpected format: no number rather than a wrong one
        }
        return OptionalLong.empty();
    }
}
