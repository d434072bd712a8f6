package org.llama4j.bench.llamacpp;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * llama.cpp's C API through FFM: the peer that llama4j is compared with, side by side in one JVM.
 *
 * <p>The libraries are the prebuilt CPU build of the npm package {@code @node-llama-cpp/linux-x64@3.22.1}
 * (llama.cpp "v0.5.0"), installed by {@code scripts/install-llamacpp.sh} into {@code .llamacpp/}; the
 * environment variable {@code LLAMA4J_LLAMACPP_DIR} (or system property {@code llama4j.llamacpp.dir}) points
 * at another folder holding {@code libllama*.so}, {@code libggml*.so}. The struct layouts below are those of
 * that version's {@code include/llama.h} (checked with {@code offsetof} against the header of the source
 * bundle shipped in {@code node-llama-cpp@3.22.1}); {@link #load} verifies them at run time against the
 * library's own default parameters and refuses a library whose defaults don't line up.
 *
 * <p>The package ships one ggml CPU backend per CPU generation ({@code libggml-cpu-haswell.so} = AVX2,
 * {@code -skylakex} = AVX-512, {@code -sapphirerapids} = AMX, ...). They are loaded the way ggml intends,
 * {@code ggml_backend_load_all_from_path}, which scores every variant against this CPU and keeps the best;
 * {@code LLAMA4J_LLAMACPP_CPU=<variant>} forces one. {@link #cpuVariant()} says which one is in use.
 *
 * <p>The libraries are process-wide (they cannot be unloaded safely), so this is a singleton; models and
 * contexts are {@link AutoCloseable}. Depends on nothing but the JDK, so the CLI can use it without JMH.
 */
public final class LlamaCpp {
    /** The npm package version whose {@code llama.h} this binding follows. */
    public static final String NPM_PACKAGE = "@node-llama-cpp/linux-x64@3.22.1";
    public static final String ENV_DIR = "LLAMA4J_LLAMACPP_DIR";
    public static final String ENV_CPU_VARIANT = "LLAMA4J_LLAMACPP_CPU";
    /** When {@code 1}, every llama.cpp log line goes to stderr (default: warnings and errors only). */
    public static final String ENV_VERBOSE = "LLAMA4J_LLAMACPP_VERBOSE";
    static final String INSTALL_HINT = "run scripts/install-llamacpp.sh (installs " + NPM_PACKAGE
            + " into .llamacpp/), or set " + ENV_DIR + " to a folder holding libllama*.so and libggml*.so";
    private static final Path PACKAGE_LIB_SUBDIR = Path.of(".llamacpp", "node_modules", "@node-llama-cpp",
            "linux-x64", "bins", "linux-x64");

    // ---- struct layouts of llama.h (x86-64 SysV; enums are int) ----

    /** {@code struct llama_model_params}, 80 bytes. */
    static final StructLayout MODEL_PARAMS = MemoryLayout.structLayout(
            ADDRESS.withName("devices"),
            ADDRESS.withName("tensor_buft_overrides"),
            JAVA_INT.withName("n_gpu_layers"),
            JAVA_INT.withName("split_mode"),
            JAVA_INT.withName("load_mode"),
            JAVA_INT.withName("lazy_mode"),
            JAVA_INT.withName("main_gpu"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("tensor_split"),
            ADDRESS.withName("progress_callback"),
            ADDRESS.withName("progress_callback_user_data"),
            ADDRESS.withName("kv_overrides"),
            JAVA_BOOLEAN.withName("vocab_only"),
            JAVA_BOOLEAN.withName("check_tensors"),
            JAVA_BOOLEAN.withName("use_extra_bufts"),
            JAVA_BOOLEAN.withName("no_host"),
            JAVA_BOOLEAN.withName("no_alloc"),
            JAVA_BOOLEAN.withName("load_mtp"),
            MemoryLayout.paddingLayout(2)).withName("llama_model_params");

    /** {@code struct llama_context_params}, 160 bytes. */
    static final StructLayout CONTEXT_PARAMS = MemoryLayout.structLayout(
            JAVA_INT.withName("n_ctx"),
            JAVA_INT.withName("n_batch"),
            JAVA_INT.withName("n_ubatch"),
            JAVA_INT.withName("n_seq_max"),
            JAVA_INT.withName("n_rs_seq"),
            JAVA_INT.withName("n_outputs_max"),
            JAVA_INT.withName("n_outputs_max_per_seq"),
            JAVA_INT.withName("n_threads"),
            JAVA_INT.withName("n_threads_batch"),
            JAVA_INT.withName("ctx_type"),
            JAVA_INT.withName("rope_scaling_type"),
            JAVA_INT.withName("pooling_type"),
            JAVA_INT.withName("attention_type"),
            JAVA_INT.withName("flash_attn_type"),
            JAVA_FLOAT.withName("rope_freq_base"),
            JAVA_FLOAT.withName("rope_freq_scale"),
            JAVA_FLOAT.withName("yarn_ext_factor"),
            JAVA_FLOAT.withName("yarn_attn_factor"),
            JAVA_FLOAT.withName("yarn_beta_fast"),
            JAVA_FLOAT.withName("yarn_beta_slow"),
            JAVA_INT.withName("yarn_orig_ctx"),
            JAVA_FLOAT.withName("defrag_thold"),
            ADDRESS.withName("cb_eval"),
            ADDRESS.withName("cb_eval_user_data"),
            JAVA_INT.withName("type_k"),
            JAVA_INT.withName("type_v"),
            ADDRESS.withName("abort_callback"),
            ADDRESS.withName("abort_callback_data"),
            JAVA_BOOLEAN.withName("embeddings"),
            JAVA_BOOLEAN.withName("offload_kqv"),
            JAVA_BOOLEAN.withName("no_perf"),
            JAVA_BOOLEAN.withName("op_offload"),
            JAVA_BOOLEAN.withName("swa_full"),
            JAVA_BOOLEAN.withName("kv_unified"),
            MemoryLayout.paddingLayout(2),
            ADDRESS.withName("samplers"),
            JAVA_LONG.withName("n_samplers"),
            ADDRESS.withName("ctx_other")).withName("llama_context_params");

    /** {@code struct llama_batch}, 56 bytes. */
    static final StructLayout BATCH = MemoryLayout.structLayout(
            JAVA_INT.withName("n_tokens"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("token"),
            ADDRESS.withName("embd"),
            ADDRESS.withName("pos"),
            ADDRESS.withName("n_seq_id"),
            ADDRESS.withName("seq_id"),
            ADDRESS.withName("logits")).withName("llama_batch");

    static long offset(StructLayout layout, String field) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    static final int GGML_LOG_LEVEL_WARN = 3;
    static final int GGML_LOG_LEVEL_CONT = 5;

    // ---- process-wide state ----

    private static LlamaCpp instance;
    private static final Deque<String> RECENT_PROBLEMS = new ArrayDeque<>();
    private static final StringBuilder PENDING_LINE = new StringBuilder();
    private static volatile boolean verbose = "1".equals(System.getenv(ENV_VERBOSE));
    private static int lastLogLevel;

    private final Path libraryDir;
    private final String cpuVariant;
    private final String systemInfo;
    private final String version;

    // ---- downcalls ----
    final MethodHandle modelDefaultParams;
    final MethodHandle contextDefaultParams;
    final MethodHandle modelLoadFromFile;
    final MethodHandle modelFree;
    final MethodHandle initFromModel;
    final MethodHandle free;
    final MethodHandle modelGetVocab;
    final MethodHandle vocabNTokens;
    final MethodHandle vocabBos;
    final MethodHandle vocabEos;
    final MethodHandle modelNCtxTrain;
    final MethodHandle modelNEmbd;
    final MethodHandle modelNLayer;
    final MethodHandle modelDesc;
    final MethodHandle modelSize;
    final MethodHandle modelNParams;
    final MethodHandle modelMetaValStr;
    final MethodHandle tokenize;
    final MethodHandle tokenToPiece;
    final MethodHandle batchInit;
    final MethodHandle batchFree;
    final MethodHandle decode;
    final MethodHandle synchronize;
    final MethodHandle getLogitsIth;
    final MethodHandle getMemory;
    final MethodHandle memoryClear;
    final MethodHandle nCtx;
    final MethodHandle nBatch;
    final MethodHandle nUbatch;
    final MethodHandle nThreads;
    final MethodHandle nThreadsBatch;
    final MethodHandle setNThreads;

    private LlamaCpp(Path dir) {
        this.libraryDir = dir;
        Linker linker = Linker.nativeLinker();
        Arena global = Arena.global();
        // Dependency order; each library's RUNPATH is $ORIGIN, so dlopen resolves the others from the same folder.
        SymbolLookup ggmlBase = SymbolLookup.libraryLookup(findLibrary(dir, "libggml-base"), global);
        SymbolLookup ggml = SymbolLookup.libraryLookup(findLibrary(dir, "libggml"), global);
        SymbolLookup llama = SymbolLookup.libraryLookup(findLibrary(dir, "libllama"), global);
        SymbolLookup all = ggmlBase.or(ggml).or(llama);
        Binder b = new Binder(linker, all);

        // Route llama.cpp's and ggml's logging before anything logs (llama_log_set also sets ggml's).
        MethodHandle logSet = b.bind("llama_log_set", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        try {
            MethodHandle onLog = MethodHandles.lookup().findStatic(LlamaCpp.class, "onLog",
                    MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment stub = linker.upcallStub(onLog,
                    FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS), global);
            logSet.invokeExact(stub, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new LlamaCppException("llama_log_set failed", t);
        }

        // CPU backend: the best-scoring libggml-cpu-<variant>.so for this CPU, or the one forced by the environment.
        MethodHandle backendLoadAllFromPath = b.bind("ggml_backend_load_all_from_path", FunctionDescriptor.ofVoid(ADDRESS));
        MethodHandle backendLoad = b.bind("ggml_backend_load", FunctionDescriptor.of(ADDRESS, ADDRESS));
        MethodHandle backendRegCount = b.bind("ggml_backend_reg_count", FunctionDescriptor.of(JAVA_LONG));
        String forced = System.getenv(ENV_CPU_VARIANT);
        try (Arena arena = Arena.ofConfined()) {
            if (forced != null && !forced.isBlank()) {
                Path variant = dir.resolve("libggml-cpu-" + forced.strip() + ".so");
                if (!Files.isRegularFile(variant)) {
                    throw new LlamaCppException(ENV_CPU_VARIANT + "=" + forced + ": no " + variant.getFileName()
                            + " in " + dir + " (variants there: " + String.join(", ", cpuVariants(dir)) + ")");
                }
                MemorySegment reg = (MemorySegment) backendLoad.invokeExact(arena.allocateFrom(variant.toString()));
                if (reg.equals(MemorySegment.NULL)) {
                    throw new LlamaCppException("ggml_backend_load(" + variant + ") failed (not supported by this CPU?)"
                            + recentProblems());
                }
            } else {
                backendLoadAllFromPath.invokeExact(arena.allocateFrom(dir.toString()));
            }
            long registered = (long) backendRegCount.invokeExact();
            if (registered == 0) {
                throw new LlamaCppException("no ggml backend could be loaded from " + dir + recentProblems());
            }
        } catch (LlamaCppException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("loading the ggml CPU backend from " + dir + " failed", t);
        }
        this.cpuVariant = loadedCpuVariant();

        MethodHandle backendInit = b.bind("llama_backend_init", FunctionDescriptor.ofVoid());
        MethodHandle printSystemInfo = b.bind("llama_print_system_info", FunctionDescriptor.of(ADDRESS));
        MethodHandle llamaVersion = b.bind("llama_version", FunctionDescriptor.of(ADDRESS));
        try {
            backendInit.invokeExact();
            this.systemInfo = cString((MemorySegment) printSystemInfo.invokeExact()).strip();
            this.version = cString((MemorySegment) llamaVersion.invokeExact());
        } catch (Throwable t) {
            throw new LlamaCppException("llama_backend_init failed", t);
        }

        modelDefaultParams = b.bind("llama_model_default_params", FunctionDescriptor.of(MODEL_PARAMS));
        contextDefaultParams = b.bind("llama_context_default_params", FunctionDescriptor.of(CONTEXT_PARAMS));
        modelLoadFromFile = b.bind("llama_model_load_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, MODEL_PARAMS));
        modelFree = b.bind("llama_model_free", FunctionDescriptor.ofVoid(ADDRESS));
        initFromModel = b.bind("llama_init_from_model", FunctionDescriptor.of(ADDRESS, ADDRESS, CONTEXT_PARAMS));
        free = b.bind("llama_free", FunctionDescriptor.ofVoid(ADDRESS));
        modelGetVocab = b.bind("llama_model_get_vocab", FunctionDescriptor.of(ADDRESS, ADDRESS));
        vocabNTokens = b.bind("llama_vocab_n_tokens", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        vocabBos = b.bind("llama_vocab_bos", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        vocabEos = b.bind("llama_vocab_eos", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        modelNCtxTrain = b.bind("llama_model_n_ctx_train", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        modelNEmbd = b.bind("llama_model_n_embd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        modelNLayer = b.bind("llama_model_n_layer", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        modelDesc = b.bind("llama_model_desc", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        modelSize = b.bind("llama_model_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        modelNParams = b.bind("llama_model_n_params", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        modelMetaValStr = b.bind("llama_model_meta_val_str",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        tokenize = b.bind("llama_tokenize", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN));
        tokenToPiece = b.bind("llama_token_to_piece", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_BOOLEAN));
        batchInit = b.bind("llama_batch_init", FunctionDescriptor.of(BATCH, JAVA_INT, JAVA_INT, JAVA_INT));
        batchFree = b.bind("llama_batch_free", FunctionDescriptor.ofVoid(BATCH));
        decode = b.bind("llama_decode", FunctionDescriptor.of(JAVA_INT, ADDRESS, BATCH));
        synchronize = b.bind("llama_synchronize", FunctionDescriptor.ofVoid(ADDRESS));
        getLogitsIth = b.bind("llama_get_logits_ith", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        getMemory = b.bind("llama_get_memory", FunctionDescriptor.of(ADDRESS, ADDRESS));
        memoryClear = b.bind("llama_memory_clear", FunctionDescriptor.ofVoid(ADDRESS, JAVA_BOOLEAN));
        nCtx = b.bind("llama_n_ctx", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nBatch = b.bind("llama_n_batch", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nUbatch = b.bind("llama_n_ubatch", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nThreads = b.bind("llama_n_threads", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nThreadsBatch = b.bind("llama_n_threads_batch", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setNThreads = b.bind("llama_set_n_threads", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT));

        verifyAbi();
    }

    /**
     * The process-wide instance, loading the libraries on first use from {@link #findLibraryDir()}.
     *
     * @throws LlamaCppNotInstalledException when no folder holds the libraries (message says how to install them)
     */
    public static synchronized LlamaCpp load() {
        if (instance != null) {
            return instance;
        }
        Path dir = findLibraryDir().orElseThrow(() -> new LlamaCppNotInstalledException(
                "llama.cpp libraries not found (looked in " + candidateDirs() + "): " + INSTALL_HINT));
        return load(dir);
    }

    /** The process-wide instance, loading the libraries from {@code dir}; a second, different folder is an error. */
    public static synchronized LlamaCpp load(Path dir) {
        Path normalized = dir.toAbsolutePath().normalize();
        if (instance != null) {
            if (!instance.libraryDir.equals(normalized)) {
                throw new LlamaCppException("llama.cpp is already loaded from " + instance.libraryDir
                        + "; a process can load it from one folder only (asked for " + normalized + ")");
            }
            return instance;
        }
        if (!Files.isDirectory(normalized)) {
            throw new LlamaCppNotInstalledException("llama.cpp library folder " + normalized + " does not exist: "
                    + INSTALL_HINT);
        }
        instance = new LlamaCpp(normalized);
        return instance;
    }

    /** The folder the libraries would be loaded from: {@code LLAMA4J_LLAMACPP_DIR}, else {@code .llamacpp/} of the repository. */
    public static Optional<Path> findLibraryDir() {
        return candidateDirs().stream().filter(LlamaCpp::holdsLibllama).findFirst();
    }

    /** The folders searched, in order: an explicit setting wins and is the only candidate. */
    public static List<Path> candidateDirs() {
        String explicit = System.getProperty("llama4j.llamacpp.dir");
        if (explicit == null || explicit.isBlank()) {
            explicit = System.getenv(ENV_DIR);
        }
        if (explicit != null && !explicit.isBlank()) {
            return List.of(Path.of(explicit).toAbsolutePath().normalize());
        }
        Set<Path> roots = new LinkedHashSet<>();
        String repoRoot = System.getProperty("llama4j.repo.root");
        if (repoRoot != null && !repoRoot.isBlank()) {
            roots.add(Path.of(repoRoot));
        }
        addSelfAndParents(roots, Path.of(""));
        try {
            var source = LlamaCpp.class.getProtectionDomain().getCodeSource();
            if (source != null) {
                addSelfAndParents(roots, Path.of(source.getLocation().toURI()));
            }
        } catch (URISyntaxException | SecurityException | IllegalArgumentException ignored) {
            // no usable code location (e.g. a custom class loader): the other roots still apply
        }
        List<Path> dirs = new ArrayList<>();
        for (Path root : roots) {
            Path candidate = root.resolve(PACKAGE_LIB_SUBDIR).normalize();
            if (!dirs.contains(candidate)) {
                dirs.add(candidate);
            }
        }
        return dirs;
    }

    private static void addSelfAndParents(Set<Path> roots, Path start) {
        for (Path p = start.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("mvnw")) || Files.isDirectory(p.resolve(".llamacpp"))) {
                roots.add(p);
            }
        }
    }

    private static boolean holdsLibllama(Path dir) {
        try {
            findLibrary(dir, "libllama");
            return true;
        } catch (LlamaCppException e) {
            return false;
        }
    }

    /** {@code <stem>.so}, {@code <stem>.so.N} or the npm package's {@code <stem>.vX.Y.Z.so}; never {@code <stem>-*}. */
    static Path findLibrary(Path dir, String stem) {
        if (Files.isRegularFile(dir.resolve(stem + ".so"))) {
            return dir.resolve(stem + ".so");
        }
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                Optional<Path> found = files.filter(f -> {
                    String n = f.getFileName().toString();
                    return n.startsWith(stem + ".") && n.contains(".so") && Files.isRegularFile(f);
                }).sorted().findFirst();
                if (found.isPresent()) {
                    return found.get();
                }
            } catch (IOException e) {
                throw new LlamaCppNotInstalledException("cannot list " + dir + ": " + e.getMessage());
            }
        }
        throw new LlamaCppNotInstalledException("no " + stem + ".so in " + dir + ": " + INSTALL_HINT);
    }

    static List<String> cpuVariants(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.startsWith("libggml-cpu-") && n.endsWith(".so"))
                    .map(n -> n.substring("libggml-cpu-".length(), n.length() - ".so".length()))
                    .sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Which libggml-cpu-*.so the dynamic linker holds: the variant ggml chose (Linux: from /proc/self/maps). */
    private static String loadedCpuVariant() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.map(l -> {
                int i = l.indexOf("/libggml-cpu");
                if (i < 0) {
                    return null;
                }
                String name = l.substring(i + 1).strip();
                return name.startsWith("libggml-cpu-") && name.endsWith(".so")
                        ? name.substring("libggml-cpu-".length(), name.length() - ".so".length())
                        : name;
            }).filter(s -> s != null).findFirst().orElse("unknown");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /**
     * Refuses a library whose struct layouts differ from ours: the default parameters of llama.h's pinned version,
     * read through our layouts, must come back exactly (a shifted field reads as nonsense here instead of corrupting
     * a model load later).
     */
    private void verifyAbi() {
        List<String> problems = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mp = (MemorySegment) modelDefaultParams.invokeExact((SegmentAllocator) arena);
            expect(problems, "model.n_gpu_layers", mp.get(JAVA_INT, offset(MODEL_PARAMS, "n_gpu_layers")), -1);
            expect(problems, "model.split_mode", mp.get(JAVA_INT, offset(MODEL_PARAMS, "split_mode")), 1);
            expect(problems, "model.load_mode", mp.get(JAVA_INT, offset(MODEL_PARAMS, "load_mode")), -1);
            expect(problems, "model.lazy_mode", mp.get(JAVA_INT, offset(MODEL_PARAMS, "lazy_mode")), 1);
            expect(problems, "model.main_gpu", mp.get(JAVA_INT, offset(MODEL_PARAMS, "main_gpu")), 0);
            expect(problems, "model.kv_overrides", mp.get(ADDRESS, offset(MODEL_PARAMS, "kv_overrides")).address(), 0L);
            expect(problems, "model.vocab_only", mp.get(JAVA_BOOLEAN, offset(MODEL_PARAMS, "vocab_only")), false);
            expect(problems, "model.use_extra_bufts", mp.get(JAVA_BOOLEAN, offset(MODEL_PARAMS, "use_extra_bufts")), true);
            expect(problems, "model.load_mtp", mp.get(JAVA_BOOLEAN, offset(MODEL_PARAMS, "load_mtp")), false);

            MemorySegment cp = (MemorySegment) contextDefaultParams.invokeExact((SegmentAllocator) arena);
            expect(problems, "context.n_ctx", cp.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_ctx")), 512);
            expect(problems, "context.n_batch", cp.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_batch")), 2048);
            expect(problems, "context.n_ubatch", cp.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_ubatch")), 512);
            expect(problems, "context.n_seq_max", cp.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_seq_max")), 1);
            expect(problems, "context.n_outputs_max_per_seq",
                    cp.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_outputs_max_per_seq")), 1);
            expect(problems, "context.n_threads", cp.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_threads")), 4);
            expect(problems, "context.flash_attn_type", cp.get(JAVA_INT, offset(CONTEXT_PARAMS, "flash_attn_type")), -1);
            expect(problems, "context.yarn_ext_factor", cp.get(JAVA_FLOAT, offset(CONTEXT_PARAMS, "yarn_ext_factor")), -1f);
            expect(problems, "context.defrag_thold", cp.get(JAVA_FLOAT, offset(CONTEXT_PARAMS, "defrag_thold")), -1f);
            expect(problems, "context.type_k", cp.get(JAVA_INT, offset(CONTEXT_PARAMS, "type_k")), KvCacheType.F16.ggmlType);
            expect(problems, "context.type_v", cp.get(JAVA_INT, offset(CONTEXT_PARAMS, "type_v")), KvCacheType.F16.ggmlType);
            expect(problems, "context.offload_kqv", cp.get(JAVA_BOOLEAN, offset(CONTEXT_PARAMS, "offload_kqv")), true);
            expect(problems, "context.no_perf", cp.get(JAVA_BOOLEAN, offset(CONTEXT_PARAMS, "no_perf")), true);
            expect(problems, "context.swa_full", cp.get(JAVA_BOOLEAN, offset(CONTEXT_PARAMS, "swa_full")), true);
            expect(problems, "context.kv_unified", cp.get(JAVA_BOOLEAN, offset(CONTEXT_PARAMS, "kv_unified")), false);
            expect(problems, "context.n_samplers", cp.get(JAVA_LONG, offset(CONTEXT_PARAMS, "n_samplers")), 0L);
            expect(problems, "context.ctx_other", cp.get(ADDRESS, offset(CONTEXT_PARAMS, "ctx_other")).address(), 0L);
        } catch (Throwable t) {
            throw new LlamaCppException("reading llama.cpp's default parameters failed", t);
        }
        if (!problems.isEmpty()) {
            throw new LlamaCppException("the llama.cpp in " + libraryDir + " (version " + version
                    + ") does not have the struct layout this binding was written for (" + NPM_PACKAGE
                    + "): default parameters read back as " + problems + "; " + INSTALL_HINT);
        }
    }

    private static void expect(List<String> problems, String what, Object actual, Object expected) {
        if (!expected.equals(actual)) {
            problems.add(what + "=" + actual + " (expected " + expected + ")");
        }
    }

    // ---- logging ----

    /** Upcall from llama.cpp/ggml (any thread): warnings and errors to stderr and kept for error messages. */
    @SuppressWarnings("unused")
    private static void onLog(int level, MemorySegment text, MemorySegment userData) {
        String s = text.equals(MemorySegment.NULL) ? "" : cString(text);
        synchronized (PENDING_LINE) {
            int effective = level == GGML_LOG_LEVEL_CONT ? lastLogLevel : level;
            lastLogLevel = effective;
            if (verbose) {
                System.err.print(s);
            } else if (effective >= GGML_LOG_LEVEL_WARN) {
                System.err.print(s.startsWith("\n") || PENDING_LINE.length() > 0 ? s : "[llama.cpp] " + s);
            }
            if (effective < GGML_LOG_LEVEL_WARN) {
                return;
            }
            PENDING_LINE.append(s);
            int nl;
            while ((nl = PENDING_LINE.indexOf("\n")) >= 0) {
                String line = PENDING_LINE.substring(0, nl).strip();
                PENDING_LINE.delete(0, nl + 1);
                if (!line.isEmpty()) {
                    RECENT_PROBLEMS.addLast(line);
                    while (RECENT_PROBLEMS.size() > 8) {
                        RECENT_PROBLEMS.removeFirst();
                    }
                }
            }
        }
    }

    /** The warnings/errors llama.cpp logged since the last call, as a suffix for an exception message. */
    static String recentProblems() {
        synchronized (PENDING_LINE) {
            if (RECENT_PROBLEMS.isEmpty()) {
                return "";
            }
            String s = " (llama.cpp logged: " + String.join(" | ", RECENT_PROBLEMS) + ")";
            RECENT_PROBLEMS.clear();
            return s;
        }
    }

    static void forgetRecentProblems() {
        synchronized (PENDING_LINE) {
            RECENT_PROBLEMS.clear();
        }
    }

    /** Sends every llama.cpp log line (info and debug too) to stderr, or only warnings and errors. */
    public static void setVerbose(boolean on) {
        verbose = on;
    }

    static String cString(MemorySegment p) {
        return p.equals(MemorySegment.NULL) ? "" : p.reinterpret(Long.MAX_VALUE).getString(0);
    }

    // ---- public API ----

    /** Loads all weights of a GGUF file (default model parameters: mmap when possible, CPU backend). */
    public LlamaCppModel openModel(Path gguf) {
        return new LlamaCppModel(this, gguf, false);
    }

    /** Loads only the vocabulary of a GGUF file (no tensors), for tokenizing. */
    public LlamaCppModel openVocab(Path gguf) {
        return new LlamaCppModel(this, gguf, true);
    }

    public Path libraryDir() {
        return libraryDir;
    }

    /** The ggml CPU backend variant in use, e.g. {@code haswell} (AVX2) or {@code sapphirerapids} (AVX-512 + AMX). */
    public String cpuVariant() {
        return cpuVariant;
    }

    /** The variants the package ships ({@code libggml-cpu-<variant>.so}). */
    public List<String> availableCpuVariants() {
        return cpuVariants(libraryDir);
    }

    /** {@code llama_print_system_info()}: the instruction sets the loaded CPU backend was compiled for. */
    public String systemInfo() {
        return systemInfo;
    }

    /** {@code llama_version()}. */
    public String version() {
        return version;
    }

    @Override
    public String toString() {
        return "llama.cpp " + version + " from " + libraryDir + " (CPU backend " + cpuVariant + ")";
    }

    /** Looks up symbols and builds downcall handles, naming the missing symbol and the folder when one is absent. */
    private record Binder(Linker linker, SymbolLookup lookup) {
        MethodHandle bind(String name, FunctionDescriptor descriptor) {
            MemorySegment symbol = lookup.find(name).orElseThrow(() -> new LlamaCppException(
                    "symbol " + name + " not found in the llama.cpp libraries (a different llama.cpp version? "
                            + INSTALL_HINT + ")"));
            return linker.downcallHandle(symbol, descriptor);
        }
    }
}
