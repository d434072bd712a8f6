package org.llama4j.bench.llamacpp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Loading the libraries: ABI check passed, the CPU backend variant fits this CPU. */
class LlamaCppLibraryTest {
    private static LlamaCpp cpp;

    @BeforeAll
    static void load() {
        cpp = LlamaCppTesting.requireLlamaCpp();
    }

    @Test
    void loadsOnceFromTheInstalledFolder() {
        assertThat(LlamaCpp.load()).isSameAs(cpp);
        assertThat(cpp.libraryDir()).isEqualTo(LlamaCpp.findLibraryDir().orElseThrow());
        assertThat(cpp.version()).isNotBlank();
        assertThat(cpp.systemInfo()).contains("CPU");
    }

    @Test
    void structLayoutsHaveTheSizesOfLlamaH() {
        // sizeof() values printed by a C program compiled against include/llama.h of the pinned release
        assertThat(LlamaCpp.MODEL_PARAMS.byteSize()).isEqualTo(80);
        assertThat(LlamaCpp.CONTEXT_PARAMS.byteSize()).isEqualTo(160);
        assertThat(LlamaCpp.BATCH.byteSize()).isEqualTo(56);
        assertThat(LlamaCpp.offset(LlamaCpp.CONTEXT_PARAMS, "type_k")).isEqualTo(104);
        assertThat(LlamaCpp.offset(LlamaCpp.CONTEXT_PARAMS, "embeddings")).isEqualTo(128);
        assertThat(LlamaCpp.offset(LlamaCpp.MODEL_PARAMS, "vocab_only")).isEqualTo(72);
    }

    @Test
    void cpuBackendVariantUsesTheVectorExtensionsOfThisCpu() throws IOException {
        assertThat(cpp.availableCpuVariants()).contains(cpp.cpuVariant());
        String forced = System.getenv(LlamaCpp.ENV_CPU_VARIANT);
        if (forced != null && !forced.isBlank()) {
            assertThat(cpp.cpuVariant()).isEqualTo(forced.strip());
            return;
        }
        Set<String> flags = cpuFlags();
        if (flags.contains("avx2")) {
            // variants compiled without AVX2: picking one of them on an AVX2 machine would halve llama.cpp's speed
            assertThat(cpp.cpuVariant()).isNotIn("x64", "sse42", "sandybridge", "ivybridge", "piledriver");
            assertThat(cpp.systemInfo()).contains("AVX2 = 1");
        }
        if (flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl")) {
            assertThat(cpp.systemInfo()).contains("AVX512 = 1");
        }
    }

    private static Set<String> cpuFlags() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.exists(cpuinfo)) {
            return Set.of();
        }
        List<String> lines = Files.readAllLines(cpuinfo);
        return lines.stream().filter(l -> l.startsWith("flags")).findFirst()
                .map(l -> Set.copyOf(Arrays.asList(l.substring(l.indexOf(':') + 1).strip().split("\\s+"))))
                .orElse(Set.of());
    }
}
