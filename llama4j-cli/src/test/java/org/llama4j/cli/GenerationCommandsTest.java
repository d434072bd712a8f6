package org.llama4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llama4j.api.ChatModel;
import org.llama4j.api.ChatOptions;
import org.llama4j.api.Conversation;
import org.llama4j.chat.ChatMessage;
import org.llama4j.testing.Fixtures;
import org.llama4j.testing.TinyModels;

/** generate, chat and logits through the command line, on a generated model and on the fixtures. */
class GenerationCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void generatePrintsTheGreedyAnswerOfTheLibrary() {
        Path model = TinyModels.tinyGguf();
        CliRun r = CliRun.run("generate", "--model", model.toString(), "-p", "hello world", "-n", "8",
                "--temperature", "0", "--verbose");
        assertThat(r.code()).as(r.err()).isZero();
        try (ChatModel chat = ChatModel.load(model)) {
            String expected = chat.chat(List.of(ChatMessage.user("hello world")), ChatOptions.greedy(8)).text();
            assertThat(r.out()).isEqualTo(expected + System.lineSeparator());
        }
        assertThat(r.err()).contains("tokens/s");
    }

    @Test
    void generateRawContinuesPlainText() {
        Path model = TinyModels.tinyGguf();
        CliRun a = CliRun.run("generate", "--model", model.toString(), "--raw", "-p", "hello", "-n", "5", "--seed", "3",
                "--temperature", "0.9");
        CliRun b = CliRun.run("generate", "--model", model.toString(), "--raw", "-p", "hello", "-n", "5", "--seed", "3",
                "--temperature", "0.9");
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.out()).isEqualTo(b.out());
    }

    @Test
    void scriptedChatIsAMultiTurnConversation() {
        Path model = TinyModels.tinyGguf();
        CliRun r = CliRun.runWithInput("hello\nworld\n/exit\nignored\n", "chat", "--model", model.toString(),
                "--system", "Be brief.", "-n", "6", "--temperature", "0");
        assertThat(r.code()).as(r.err()).isZero();
        try (ChatModel chat = ChatModel.load(model); Conversation c = chat.newConversation()) {
            c.system("Be brief.");
            String first = c.send("hello", ChatOptions.greedy(6), d -> { }, null).text();
            String second = c.send("world", ChatOptions.greedy(6), d -> { }, null).text();
            String nl = System.lineSeparator();
            assertThat(r.out()).isEqualTo(first + nl + second + nl);
        }
    }

    @Test
    void chatRunsOnTheCompleteFixtureFolder() {
        Path model = Fixtures.require("llama4-vision-tiny");
        CliRun r = CliRun.runWithInput("What is in the image?\nAnd now?\n", "chat", "--model", model.toString(), "-n",
                "4", "--temperature", "0");
        assertThat(r.code()).as(r.err()).isZero();
        try (ChatModel chat = ChatModel.load(model); Conversation c = chat.newConversation()) {
            String first = c.send("What is in the image?", ChatOptions.greedy(4), d -> { }, null).text();
            String second = c.send("And now?", ChatOptions.greedy(4), d -> { }, null).text();
            String nl = System.lineSeparator();
            assertThat(r.out()).isEqualTo(first + nl + second + nl);
        }
    }

    @Test
    void logitsMatchMetaGoldensForEveryPositionAndListedOnes() throws Exception {
        Path dir = Fixtures.require("llama4-tiny/tiny-scout");
        JsonNode seq = JSON.readTree(dir.resolve("golden/index.json").toFile()).get("sequences").get(2);
        int n = seq.get("length").asInt();
        StringBuilder ids = new StringBuilder();
        for (JsonNode t : seq.get("tokens")) {
            ids.append(ids.isEmpty() ? "" : ",").append(t.asInt());
        }
        float[] golden = floats(Files.readAllBytes(dir.resolve("golden").resolve(seq.get("logits_file").asText())));
        int vocab = golden.length / seq.get("logits_positions").size();
        assertThat(seq.get("logits_positions").size()).isEqualTo(n);

        Path all = tmp.resolve("all.f32");
        CliRun r = CliRun.run("logits", "--model", dir.resolve("tiny-scout.BF16.gguf").toString(), "--tokens",
                ids.toString(), "-o", all.toString());
        assertThat(r.code()).as(r.err()).isZero();
        float[] ours = floats(Files.readAllBytes(all));
        assertThat(ours).hasSize(n * vocab);
        assertThat(maxAbs(ours, 0, golden, 0, n * vocab)).isLessThan(1e-4);

        // listed positions, out of order and repeated, from a binary token file, on the HF folder
        Path tokens = tmp.resolve("ids.bin");
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        seq.get("tokens").forEach(t -> b.putInt(t.asInt()));
        Files.write(tokens, b.array());
        Path some = tmp.resolve("some.f32");
        int[] positions = {n - 1, 0, n / 2, 0};
        r = CliRun.run("logits", "--model", dir.toString(), "--tokens-file", tokens.toString(), "--positions",
                n - 1 + ",0," + n / 2 + ",0", "-o", some.toString());
        assertThat(r.code()).as(r.err()).isZero();
        float[] listed = floats(Files.readAllBytes(some));
        assertThat(listed).hasSize(positions.length * vocab);
        for (int i = 0; i < positions.length; i++) {
            assertThat(maxAbs(listed, i * vocab, golden, positions[i] * vocab, vocab)).isLessThan(1e-4);
        }
    }

    @Test
    void logitsRejectsBadInputWithoutLeavingAFile() throws Exception {
        Path model = TinyModels.tinyGguf();
        Path out = tmp.resolve("x.f32");
        CliRun r = CliRun.run("logits", "--model", model.toString(), "--tokens", "1,2,x", "-o", out.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("'x' is not a token id");
        r = CliRun.run("logits", "--model", model.toString(), "--tokens", "1,2", "--positions", "5", "-o", out.toString());
        assertThat(r.err()).contains("position 5 is outside the sequence of 2 tokens");
        r = CliRun.run("logits", "--model", model.toString(), "--tokens", "1,99999999", "-o", out.toString());
        assertThat(r.err()).contains("outside the vocabulary");
        Path odd = Files.write(tmp.resolve("odd.bin"), new byte[] {1, 0, 0, 0, (byte) 0xff});
        r = CliRun.run("logits", "--model", model.toString(), "--tokens-file", odd.toString(), "-o", out.toString());
        assertThat(r.err()).contains("not a whole number of int32 ids");
        assertThat(out).doesNotExist();
        assertThat(tmp.resolve("x.f32.part")).doesNotExist();
    }

    private static float[] floats(byte[] bytes) {
        float[] f = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    private static double maxAbs(float[] a, int aOff, float[] b, int bOff, int n) {
        double m = 0;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, Math.abs(a[aOff + i] - b[bOff + i]));
        }
        return m;
    }
}
