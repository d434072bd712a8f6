package org.llama4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.llama4j.chat.ChatMessage;
import org.llama4j.chat.ChatTemplate;
import org.llama4j.chat.PromptEncoder;
import org.llama4j.model.Llama4Model;
import org.llama4j.testing.Fixtures;
import org.llama4j.testing.TinyModels;
import org.llama4j.tokenizer.Tokenizer;
import org.llama4j.tokenizer.TokenizerLoader;

/**
 * The server on real checkpoint files, loaded as {@code llama4j serve} loads them: the model's own chat template
 * renders the prompt (usage reports its token count), and a streamed answer equals the non-streamed one with the
 * same seed.
 */
@Timeout(300)
class ServedModelTest {
    private static final String CHAT = "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
            + "{\"role\":\"user\",\"content\":\"hello <|eot|> world\"}],\"seed\":9,\"temperature\":0.8,"
            + "\"max_tokens\":8%s}";

    @Test
    void generatedTinyGguf() throws Exception {
        chatEndToEnd(TinyModels.tinyGguf());
    }

    @Test
    void visionTinyFolderTextPath() throws Exception {
        chatEndToEnd(Fixtures.require("llama4-vision-tiny"));
    }

    private static void chatEndToEnd(Path modelPath) throws Exception {
        Optional<ChatTemplate> template = ChatTemplate.forModel(modelPath);
        assertThat(template).as("the checkpoint ships a chat template").isPresent();
        Tokenizer tokenizer = TokenizerLoader.load(modelPath);
        HttpClient http = HttpClient.newHttpClient();
        try (Llama4Model model = Llama4Model.load(modelPath);
             OpenAiServer server = OpenAiServer.start(ServerOptions.defaults("m").withPort(0).withParallel(2)
                     .withContextSize(256))) {
            server.attach(model, tokenizer, template, TokenSampler.standard(), ShieldConfig.NONE);
            String base = "http://127.0.0.1:" + server.port() + "/v1/chat/completions";
            JsonNode body = ServerHarness.json(post(http, base, CHAT.formatted("")).body());
            JsonNode usage = body.get("usage");
            int[] expected = PromptEncoder.encode(tokenizer, template.get().render(List.of(
                    ChatMessage.system("Be brief."), ChatMessage.user("hello <|eot|> world")), null, true, null));
            assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(expected.length);
            assertThat(usage.get("completion_tokens").asInt()).isBetween(1, 8);

            HttpResponse<String> streamed = post(http, base,
                    CHAT.formatted(",\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
            ShieldsHttpTest.Streamed s = ShieldsHttpTest.Streamed.of(streamed);
            assertThat(s.content()).isEqualTo(body.at("/choices/0/message/content").asText());
            assertThat(s.finish()).isEqualTo(body.at("/choices/0/finish_reason").asText());
            List<String> events = OpenAiHttpTest.sseData(streamed.body());
            assertThat(ServerHarness.json(events.get(events.size() - 2)).get("usage")).isEqualTo(usage);
        }
    }

    private static HttpResponse<String> post(HttpClient http, String url, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r;
    }
}
