package org.llama4j.bench.llamacpp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llama4j.model.synthetic.QuantRecipe.FileType;
import org.llama4j.model.synthetic.SyntheticModelConfig;
import org.llama4j.model.synthetic.SyntheticModelWriter;
import org.llama4j.model.synthetic.SyntheticTokenizer;

/** llama.cpp loads what {@code create-model} writes, decodes with it and tokenizes with its vocabulary. */
class LlamaCppSyntheticModelTest {
    /** The tiny preset (hidden 256, so K-quant and IQ4_XS blocks really occur) with a smaller vocabulary. */
    private static final SyntheticModelConfig TINY = SyntheticModelConfig.preset("tiny").withVocabSize(1024);

    @TempDir
    static Path dir;
    private static LlamaCpp llama;

    @BeforeAll
    static void load() {
        llama = LlamaCppTesting.requireLlamaCpp();
    }

    private static Path create(SyntheticModelConfig config, FileType type) throws IOException {
        Path out = dir.resolve(config.name() + "." + type.cliName() + ".gguf");
        new SyntheticModelWriter(config, type, 17).threads(2).write(out);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bf16", "q8_0", "q4_0", "q4_k_m", "iq4_xs"})
    void llamaCppDecodesTheGeneratedModel(String typeName) throws IOException {
        Path gguf = create(TINY, FileType.parse(typeName));
        try (LlamaCppModel model = llama.openModel(gguf);
             LlamaCppContext ctx = model.newContext(ContextOptions.exact(64, 1))) {
            assertThat(model.vocabSize()).isEqualTo(1024);
            assertThat(model.layerCount()).isEqualTo(4);
            assertThat(model.embeddingLength()).isEqualTo(256);
            int[] prompt = model.tokenize("Hello, world! The user asks a question.", true, false);
            float[] logits = ctx.decode(prompt, true);
            assertThat(logits).hasSize(prompt.length * 1024);
            assertFinite(logits);
            // a few incremental steps on the last position's argmax
            for (int step = 0; step < 4; step++) {
                int next = ctx.argmax(-1);
                assertThat(next).isBetween(0, 1023);
                assertFinite(ctx.decode(new int[] {next}, false));
            }
            // random weights still give distinct logits (not all equal: the graph really ran)
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (float v : logits) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertThat(max - min).isGreaterThan(0.1f);
        }
    }

    @Test
    void maverickShapedModelWithDenseLayersAnd128ExpertsDecodes() throws IOException {
        SyntheticModelConfig maverick = new SyntheticModelConfig("tiny-maverick-128", 512, 64, 4, 4, 2, 16, 128, 1,
                32, 128, 2, 8192, true, 8192, 0.1f, 500000f, null, 1e-5f, 256);
        Path gguf = create(maverick, FileType.Q8_0);
        try (LlamaCppModel model = llama.openModel(gguf);
             LlamaCppContext ctx = model.newContext(ContextOptions.exact(32, 1))) {
            assertFinite(ctx.decode(new int[] {model.bosToken(), 300, 301, 302}, true));
        }
    }

    @Test
    void llamaCppTokenizesWithTheGeneratedVocabulary() throws IOException {
        Path gguf = create(TINY, FileType.Q8_0);
        SyntheticTokenizer ours = SyntheticTokenizer.build(1024);
        try (LlamaCppModel vocab = llama.openVocab(gguf)) {
            assertThat(vocab.bosToken()).isEqualTo(ours.bosId());
            assertThat(vocab.eosToken()).isEqualTo(ours.eosId());
            // llama.cpp's BPE with our merges gives the same tokens as our reference merge loop, word by word
            for (String word : new String[] {"The", " user", " the", " assistant", " question", " world", "202"}) {
                assertThat(vocab.tokenize(word, false, false)).as(word).containsExactly(ours.encodeWord(word));
            }
            String text = "Hello, world! The user asks a question and the assistant gives an answer.";
            int[] ids = vocab.tokenize(text, false, false);
            assertThat(ids.length).isLessThan(text.length() / 2);
            StringBuilder back = new StringBuilder();
            for (int id : ids) {
                back.append(vocab.tokenPiece(id, false));
            }
            assertThat(back.toString()).isEqualTo(text);
            // special tokens parse to their ids in the truncated layout
            assertThat(vocab.tokenize("<|header_start|>user<|header_end|>", false, true))
                    .startsWith(ours.bpeTokenCount() + 5).endsWith(ours.bpeTokenCount() + 6);
            assertThat(vocab.tokenize("<|eot|>", false, true)).containsExactly(ours.eotId());
            assertThat(vocab.tokenPiece(ours.eotId(), true)).isEqualTo("<|eot|>");
        }
    }

    private static void assertFinite(float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new AssertionError("logit " + i + " is " + values[i]);
            }
        }
    }
}
