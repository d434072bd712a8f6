package org.llama4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.format.ModelFormatException;
import org.llama4j.testing.TinyTokenizerFiles;

/** Loaders on files built by the test: the happy path without fixtures, and a specific error for each bad input. */
class LoaderErrorsTest {
    @TempDir
    Path tmp;

    /** GGUF-style arrays for the tiny vocabulary: 256 bytes, the merged tokens, then Llama 4's first specials. */
    private static Object[] ggufArrays() {
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(TinyTokenizerFiles.byteLevel(new byte[] {(byte) b}));
            types.add(1);
        }
        for (String m : TinyTokenizerFiles.MERGED) {
            tokens.add(TinyTokenizerFiles.byteLevel(m.getBytes()));
            types.add(1);
        }
        for (String s : TinyTokenizerFiles.SPECIALS) {
            tokens.add(s);
            types.add(3);
        }
        List<String> merges = List.of("h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld");
        return new Object[] {tokens.toArray(String[]::new), types.stream().mapToInt(Integer::intValue).toArray(),
            merges.toArray(String[]::new)};
    }

    @Test
    void ggufAdapterBuildsTheSameTokenizerAsTokenizerJson() throws Exception {
        Object[] a = ggufArrays();
        Tokenizer fromGguf = GgufTokenizerAdapter.fromMetadata("t.gguf", "gpt2", "llama4", (String[]) a[0], (int[]) a[1],
                (String[]) a[2]);
        Tokenizer fromJson = TokenizerLoader.load(TinyTokenizerFiles.writeTokenizerJson(tmp));
        for (String text : List.of("hello world", "Hello, world!<|eot|>", "  hellohello\n\nworld  ")) {
            for (SpecialTokens mode : SpecialTokens.values()) {
                assertThat(fromGguf.encode(text, mode)).isEqualTo(fromJson.encode(text, mode));
            }
        }
        assertThat(fromGguf.encode("hello world", SpecialTokens.NONE)).containsExactly(259, 264);
    }

    @Test
    void ggufAdapterRejectsWhatRankBasedBpeCannotReproduce() {
        Object[] a = ggufArrays();
        String[] tokens = (String[]) a[0];
        int[] types = (int[]) a[1];
        String[] merges = (String[]) a[2];
        assertThatThrownBy(() -> GgufTokenizerAdapter.fromMetadata("t.gguf", "llama", "llama4", tokens, types, merges))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer.ggml.model");
        assertThatThrownBy(() -> GgufTokenizerAdapter.fromMetadata("t.gguf", "gpt2", "qwen2", tokens, types, merges))
                .hasMessageContaining("tokenizer.ggml.pre").hasMessageContaining("qwen2");
        int[] badTypes = types.clone();
        badTypes[badTypes.length - 1] = 1;
        assertThatThrownBy(() -> GgufTokenizerAdapter.fromMetadata("t.gguf", "gpt2", "llama4", tokens, badTypes, merges))
                .hasMessageContaining("token_type[" + (badTypes.length - 1) + "]");
        String[] misordered = {merges[1], merges[0]};
        assertThatThrownBy(() -> GgufTokenizerAdapter.fromMetadata("t.gguf", "gpt2", "llama4", tokens, types, misordered))
                .hasMessageContaining("merge 1").hasMessageContaining("ordered by merged token id");
        String[] notAToken = {"h o"};
        assertThatThrownBy(() -> GgufTokenizerAdapter.fromMetadata("t.gguf", "gpt2", "llama4", tokens, types, notAToken))
                .hasMessageContaining("not a token");
    }

    @Test
    void tiktokenFileErrorsNameTheLine() throws Exception {
        Path bad = tmp.resolve("tokenizer.model");
        Files.writeString(bad, "IQ== 0\nIg== 5\n");
        assertThatThrownBy(() -> TokenizerLoader.load(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("line 2").hasMessageContaining("expected rank 1");
        Files.writeString(bad, "IQ== 0\nnot-base64!! 1\n");
        assertThatThrownBy(() -> TokenizerLoader.load(bad)).hasMessageContaining("line 2");
        StringBuilder small = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            small.append(java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) b})).append(' ').append(b).append('\n');
        }
        Files.writeString(bad, small);
        assertThatThrownBy(() -> TokenizerLoader.load(bad)).hasMessageContaining("256 ranks");
    }

    @Test
    void tokenizerJsonErrors() throws Exception {
        Path json = TinyTokenizerFiles.writeTokenizerJson(tmp);
        String good = Files.readString(json);
        Files.writeString(json, good.replace("\"BPE\"", "\"WordPiece\""));
        assertThatThrownBy(() -> TokenizerLoader.load(json)).hasMessageContaining("model.type");
        Files.writeString(json, good.replace("(?i:'s", "(?i:'z"));
        assertThatThrownBy(() -> TokenizerLoader.load(json)).hasMessageContaining("not one of the supported");
        Files.writeString(json, good.substring(0, good.length() / 2));
        assertThatThrownBy(() -> TokenizerLoader.load(json)).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> TokenizerLoader.load(tmp.resolve("nothing-here")))
                .hasMessageContaining("no such file");
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertThatThrownBy(() -> TokenizerLoader.load(empty)).hasMessageContaining("expected tokenizer.json");
    }

    /** The streamed model.vocab and model.merges arrays keep the tree reader's specific errors. */
    @Test
    void tokenizerJsonVocabAndMergesErrors() throws Exception {
        Path json = TinyTokenizerFiles.writeTokenizerJson(tmp);
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode good = (ObjectNode) mapper.readTree(json.toFile());
        ArrayNode goodMerges = (ArrayNode) good.path("model").path("merges");
        int n = goodMerges.size();
        String prefix = json + " model.merges";

        // "left right" strings instead of pairs load the same tokenizer.
        Tokenizer fromPairs = TokenizerLoader.load(json);
        ObjectNode strings = good.deepCopy();
        ArrayNode asStrings = ((ObjectNode) strings.get("model")).putArray("merges");
        goodMerges.forEach(m -> asStrings.add(m.get(0).asText() + " " + m.get(1).asText()));
        mapper.writeValue(json.toFile(), strings);
        assertThat(TokenizerLoader.load(json).encode("hello world", SpecialTokens.NONE))
                .containsExactly(fromPairs.encode("hello world", SpecialTokens.NONE)).containsExactly(259, 264);

        expectError(mapper, json, good, root -> ((ObjectNode) root.get("model")).put("vocab", "nope"),
                "model.vocab: expected an object token -> id, found \"nope\"");
        expectError(mapper, json, good, root -> ((ObjectNode) root.get("model")).putObject("vocab"),
                "model.vocab: expected an object token -> id, found {}");
        expectError(mapper, json, good, root -> ((ObjectNode) root.path("model").get("vocab")).put("a", "x"),
                "model.vocab['a']: expected a unique id in [0, ");
        expectError(mapper, json, good, root -> ((ObjectNode) root.path("model").get("vocab")).put("a", 1.5),
                "found 1.5");
        expectError(mapper, json, good, root -> ((ObjectNode) root.path("model").get("vocab")).put("a", 0),
                "model.vocab['a']: expected a unique id");
        expectError(mapper, json, good, root -> merges(root).insert(0, "ab"),
                prefix + "[0]: expected [\"left\", \"right\"] or \"left right\", found \"ab\"");
        expectError(mapper, json, good, root -> merges(root).insert(1, mapper.createArrayNode().add("a").add("b").add("c")),
                prefix + "[1]: expected [\"left\", \"right\"] or \"left right\", found [\"a\",\"b\",\"c\"]");
        expectError(mapper, json, good, root -> merges(root).insert(2, mapper.createArrayNode().add("a")),
                prefix + "[2]: expected [\"left\", \"right\"] or \"left right\", found [\"a\"]");
        expectError(mapper, json, good, root -> merges(root).insert(0, 7),
                prefix + "[0]: expected [\"left\", \"right\"] or \"left right\", found 7");
        expectError(mapper, json, good, root -> merges(root).insert(1, mapper.createArrayNode().add("h").add("\u4e00")),
                prefix + ": merge 1 'h \u4e00' has a character outside GPT-2's byte-level alphabet");
        expectError(mapper, json, good, root -> merges(root).insert(1, "\u4e00 h"),
                prefix + ": merge 1 '\u4e00 h' has a character outside GPT-2's byte-level alphabet");
        // A malformed merge is reported before any merge's content, as when the whole list was read first.
        expectError(mapper, json, good, root -> {
            merges(root).insert(0, "\u4e00 h");
            merges(root).add("ab");
        }, prefix + "[" + (n + 1) + "]: expected");
        expectError(mapper, json, good, root -> merges(root).insert(n, mapper.createArrayNode().add("e").add("h")),
                prefix + ": merge " + n + " 'e h' produces a string that is not a token");
        expectError(mapper, json, good, root -> merges(root).insert(0, merges(root).get(n - 1).deepCopy()),
                prefix + ": merge 1 '");
        expectError(mapper, json, good, root -> merges(root).insert(0, merges(root).get(n - 1).deepCopy()),
                "expected merges ordered by merged token id");
    }

    private static ArrayNode merges(ObjectNode root) {
        return (ArrayNode) root.path("model").get("merges");
    }

    private static void expectError(ObjectMapper mapper, Path json, ObjectNode good,
            java.util.function.Consumer<ObjectNode> edit, String message) throws Exception {
        ObjectNode root = good.deepCopy();
        edit.accept(root);
        mapper.writeValue(json.toFile(), root);
        assertThatThrownBy(() -> TokenizerLoader.load(json)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(message);
    }
}
