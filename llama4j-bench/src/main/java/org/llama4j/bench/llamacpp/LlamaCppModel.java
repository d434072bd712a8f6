package org.llama4j.bench.llamacpp;

import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A GGUF model loaded by llama.cpp ({@code llama_model}), or only its vocabulary. Close it to free the weights;
 * closing also closes the contexts still open on it (llama.cpp requires contexts to go first).
 * Not thread-safe for concurrent use; {@link #close()} may be called from any thread, once or more.
 */
public final class LlamaCppModel implements AutoCloseable {
    private final LlamaCpp cpp;
    private final Path path;
    private final boolean vocabOnly;
    private final long loadNanos;
    private final List<LlamaCppContext> openContexts = new ArrayList<>();
    private MemorySegment model;
    private final MemorySegment vocab;

    LlamaCppModel(LlamaCpp cpp, Path gguf, boolean vocabOnly) {
        this.cpp = cpp;
        this.path = gguf.toAbsolutePath().normalize();
        this.vocabOnly = vocabOnly;
        if (!Files.isRegularFile(path)) {
            throw new LlamaCppException("no GGUF file at " + path);
        }
        LlamaCpp.forgetRecentProblems();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = (MemorySegment) cpp.modelDefaultParams.invokeExact((SegmentAllocator) arena);
            params.set(JAVA_BOOLEAN, LlamaCpp.offset(LlamaCpp.MODEL_PARAMS, "vocab_only"), vocabOnly);
            long t0 = System.nanoTime();
            MemorySegment m = (MemorySegment) cpp.modelLoadFromFile.invokeExact(arena.allocateFrom(path.toString()), params);
            this.loadNanos = System.nanoTime() - t0;
            if (m.equals(MemorySegment.NULL)) {
                throw new LlamaCppException("llama_model_load_from_file(" + path + (vocabOnly ? ", vocab_only" : "")
                        + ") failed" + LlamaCpp.recentProblems());
            }
            this.model = m;
            this.vocab = (MemorySegment) cpp.modelGetVocab.invokeExact(m);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("loading " + path + " failed", t);
        }
    }

    /** A context (KV cache, compute buffers) on this model; the model must hold weights, not only a vocabulary. */
    public synchronized LlamaCppContext newContext(ContextOptions options) {
        MemorySegment m = handle();
        if (vocabOnly) {
            throw new IllegalStateException("model " + path + " was opened vocab-only; open it with openModel to decode");
        }
        LlamaCppContext ctx = new LlamaCppContext(cpp, this, m, options);
        synchronized (openContexts) {
            openContexts.add(ctx);
        }
        return ctx;
    }

    /** Called by a closing context; its own lock, so a context closed on another thread cannot deadlock with us. */
    void contextClosed(LlamaCppContext ctx) {
        synchronized (openContexts) {
            openContexts.remove(ctx);
        }
    }

    /**
     * Tokenizes UTF-8 text with the model's vocabulary ({@code llama_tokenize}).
     *
     * @param addSpecial   add BOS (and EOS) as the model's metadata asks
     * @param parseSpecial recognize special-token text such as {@code <|header_start|>} as those tokens
     */
    public synchronized int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
        MemorySegment v = vocabHandle();
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment textSeg = arena.allocate(Math.max(1, utf8.length));
            MemorySegment.copy(utf8, 0, textSeg, JAVA_BYTE, 0, utf8.length);
            int capacity = utf8.length + 8;
            for (int attempt = 0; attempt < 2; attempt++) {
                MemorySegment out = arena.allocate(JAVA_INT, capacity);
                int n = (int) cpp.tokenize.invokeExact(v, textSeg, utf8.length, out, capacity, addSpecial, parseSpecial);
                if (n >= 0) {
                    return out.asSlice(0, (long) n * Integer.BYTES).toArray(JAVA_INT);
                }
                if (n == Integer.MIN_VALUE) {
                    break;
                }
                capacity = -n;
            }
            throw new LlamaCppException("llama_tokenize failed for a text of " + utf8.length + " bytes"
                    + LlamaCpp.recentProblems());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_tokenize failed", t);
        }
    }

    /** The bytes of one token as text ({@code llama_token_to_piece}); special tokens rendered when {@code special}. */
    public synchronized String tokenPiece(int token, boolean special) {
        MemorySegment v = vocabHandle();
        try (Arena arena = Arena.ofConfined()) {
            int capacity = 64;
            for (int attempt = 0; attempt < 2; attempt++) {
                MemorySegment buf = arena.allocate(capacity);
                int n = (int) cpp.tokenToPiece.invokeExact(v, token, buf, capacity, 0, special);
                if (n >= 0) {
                    return new String(buf.asSlice(0, n).toArray(JAVA_BYTE),
                            StandardCharsets.UTF_8);
                }
                capacity = -n;
            }
            throw new LlamaCppException("llama_token_to_piece(" + token + ") failed");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_token_to_piece failed", t);
        }
    }

    /** Vocabulary size ({@code llama_vocab_n_tokens}): the width of a logits row. */
    public synchronized int vocabSize() {
        try {
            return (int) cpp.vocabNTokens.invokeExact(vocabHandle());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_vocab_n_tokens failed", t);
        }
    }

    public synchronized int bosToken() {
        try {
            return (int) cpp.vocabBos.invokeExact(vocabHandle());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_vocab_bos failed", t);
        }
    }

    public synchronized int eosToken() {
        try {
            return (int) cpp.vocabEos.invokeExact(vocabHandle());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_vocab_eos failed", t);
        }
    }

    /** The context length the model was trained with ({@code llama_model_n_ctx_train}). */
    public synchronized int trainedContextLength() {
        return intOf(cpp.modelNCtxTrain, "llama_model_n_ctx_train");
    }

    public synchronized int embeddingLength() {
        return intOf(cpp.modelNEmbd, "llama_model_n_embd");
    }

    public synchronized int layerCount() {
        return intOf(cpp.modelNLayer, "llama_model_n_layer");
    }

    /** {@code llama_model_desc}, e.g. {@code "llama4 17Bx16E (Scout) BF16"}. */
    public synchronized String description() {
        MemorySegment m = handle();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            int n = (int) cpp.modelDesc.invokeExact(m, buf, buf.byteSize());
            return n < 0 ? "" : buf.getString(0);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_model_desc failed", t);
        }
    }

    /** Bytes of all weight tensors ({@code llama_model_size}). */
    public synchronized long sizeBytes() {
        try {
            return (long) cpp.modelSize.invokeExact(handle());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_model_size failed", t);
        }
    }

    public synchronized long parameterCount() {
        try {
            return (long) cpp.modelNParams.invokeExact(handle());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_model_n_params failed", t);
        }
    }

    /** A GGUF metadata value as llama.cpp renders it ({@code llama_model_meta_val_str}), if the key exists. */
    public synchronized Optional<String> metadata(String key) {
        MemorySegment m = handle();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocateFrom(key);
            long capacity = 256;
            for (int attempt = 0; attempt < 2; attempt++) {
                MemorySegment buf = arena.allocate(capacity);
                int n = (int) cpp.modelMetaValStr.invokeExact(m, k, buf, capacity);
                if (n < 0) {
                    return Optional.empty();
                }
                if (n < capacity) {
                    return Optional.of(buf.getString(0));
                }
                capacity = n + 1L;
            }
            throw new LlamaCppException("llama_model_meta_val_str(" + key + ") kept growing");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_model_meta_val_str failed", t);
        }
    }

    /** Wall time of {@code llama_model_load_from_file}. */
    public long loadNanos() {
        return loadNanos;
    }

    public Path path() {
        return path;
    }

    public boolean vocabOnly() {
        return vocabOnly;
    }

    public LlamaCpp llamaCpp() {
        return cpp;
    }

    private int intOf(java.lang.invoke.MethodHandle h, String name) {
        try {
            return (int) h.invokeExact(handle());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException(name + " failed", t);
        }
    }

    private MemorySegment handle() {
        if (model == null) {
            throw new IllegalStateException("llama.cpp model " + path + " is closed");
        }
        return model;
    }

    private MemorySegment vocabHandle() {
        handle();
        return vocab;
    }

    @Override
    public synchronized void close() {
        if (model == null) {
            return;
        }
        List<LlamaCppContext> stillOpen;
        synchronized (openContexts) {
            stillOpen = List.copyOf(openContexts);
        }
        for (LlamaCppContext ctx : stillOpen) {
            ctx.close();
        }
        MemorySegment m = model;
        model = null;
        try {
            cpp.modelFree.invokeExact(m);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaCppException("llama_model_free failed", t);
        }
    }

    @Override
    public String toString() {
        return "LlamaCppModel[" + path + (vocabOnly ? ", vocab only" : "") + (model == null ? ", closed" : "") + "]";
    }
}
