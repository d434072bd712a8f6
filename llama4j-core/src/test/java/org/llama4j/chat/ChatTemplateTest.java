package org.llama4j.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.llama4j.chat.jinja.TemplateLimitException;
import org.llama4j.chat.jinja.TemplateLimits;
import org.llama4j.chat.jinja.TemplateRuntimeException;
import org.llama4j.format.ModelFormatException;

/** Self-contained: needs no fixtures. */
class ChatTemplateTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    /** A miniature of the Llama 4 template, using the constructs that matter. */
    static final String MINI = """
            {{- bos_token }}
            {%- if not tools_in_user_message is defined %}{% set tools_in_user_message = true %}{% endif %}
            {%- for m in messages %}
                {{- '<|header_start|>' + m.role + '<|header_end|>\\n\\n' }}
                {%- if m.content is string %}{{ m.content | trim }}
                {%- else %}{% for p in m.content %}{% if p.type == 'image' %}{{ '<|image|>' }}{% else %}{{ p.text }}{% endif %}{% endfor %}
                {%- endif %}
                {%- for c in m.tool_calls | default([]) %}{{ {'name': c.function.name, 'parameters': c.function.arguments} | tojson }}{% endfor %}
                {{- '<|eot|>' }}
            {%- endfor %}
            {%- if tools is not none and tools_in_user_message %}{{ tools | tojson(indent=2) }}{% endif %}
            {%- if add_generation_prompt %}{{ '<|header_start|>assistant<|header_end|>\\n\\n' }}{% endif %}
            """;

    @Test
    void rendersMessagesPartsToolsAndKwargs() throws Exception {
        ChatTemplate t = ChatTemplate.of(MINI);
        RenderedPrompt p = t.render(json("""
                [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is it?"}]},
                 {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
                   "function": {"name": "look", "arguments": {"q": "é"}}}]}]"""),
                json("[{\"type\": \"function\", \"function\": {\"name\": \"look\"}}]"), true, Map.of());
        assertThat(p.text()).isEqualTo("<|begin_of_text|><|header_start|>user<|header_end|>\n\n<|image|>What is it?<|eot|>"
                + "<|header_start|>assistant<|header_end|>\n\n{\"name\": \"look\", \"parameters\": {\"q\": \"é\"}}<|eot|>"
                + "[\n  {\n    \"type\": \"function\",\n    \"function\": {\n      \"name\": \"look\"\n    }\n  }\n]"
                + "<|header_start|>assistant<|header_end|>\n\n");
        assertThat(p.segments()).contains(new Segment(Segment.Provenance.CONTENT, "What is it?"),
                new Segment(Segment.Provenance.TEMPLATE, "<|header_end|>\n\n<|image|>"),
                new Segment(Segment.Provenance.CONTENT, "assistant"));
        RenderedPrompt noTools = t.render(List.of(ChatMessage.user(" hi ")), json("[{\"a\": 1}]"), false,
                Map.of("tools_in_user_message", false));
        assertThat(noTools.text()).isEqualTo("<|begin_of_text|><|header_start|>user<|header_end|>\n\nhi<|eot|>");
    }

    @Test
    void raiseExceptionBecomesChatTemplateException() {
        ChatTemplate t = ChatTemplate.of("{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}");
        assertThatThrownBy(() -> t.render(List.of(ChatMessage.system("s")), null, true, Map.of()))
                .isInstanceOf(ChatTemplateException.class).hasMessage("first must be user");
        assertThatThrownBy(() -> ChatTemplate.of("{{ messages[0].content + 1 }}")
                .render(List.of(ChatMessage.user("x")), null, true, Map.of()))
                .isInstanceOf(TemplateRuntimeException.class).hasMessageStartingWith("line 1, column");
    }

    @Test
    void strftimeNowReadsTheGivenClock() {
        Clock pinned = Clock.fixed(Instant.parse("2025-04-05T09:07:00Z"), ZoneOffset.UTC);
        RenderedPrompt p = ChatTemplate.of("{{ strftime_now('%d %b %Y %H:%M %A %B %-d %j') }}").withClock(pinned)
                .render(List.of(), null, false, Map.of());
        assertThat(p.text()).isEqualTo("05 Apr 2025 09:07 Saturday April 5 095");
    }

    @Test
    void tokenStringsComeFromTheTokenizerConfig() throws Exception {
        ChatTemplate t = ChatTemplate.fromTokenizerConfig(json("""
                {"chat_template": [{"name": "default", "template": "{{ bos_token }}|{{ eos_token }}|{{ pad_token }}"}],
                 "bos_token": {"content": "<s>"}, "eos_token": "</s>"}"""), "test");
        assertThat(t.render(List.of(), null, false, Map.of()).text()).isEqualTo("<s>|</s>|");
        assertThatThrownBy(() -> ChatTemplate.fromTokenizerConfig(json("{}"), "cfg.json"))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("no chat_template");
    }

    @Test
    void limitsApplyToChatRendering() {
        ChatTemplate t = ChatTemplate.of("{% for m in messages %}{% for i in range(100000) %}{% endfor %}{% endfor %}")
                .withLimits(new TemplateLimits(10_000, 1 << 20, 10, 1 << 20));
        assertThatThrownBy(() -> t.render(List.of(ChatMessage.user("x")), null, true, Map.of()))
                .isInstanceOf(TemplateLimitException.class);
    }

    @Test
    void messagesRoundTripThroughJson() throws Exception {
        ChatMessage m = ChatMessage.fromJson(json("""
                {"role": "assistant", "content": "x", "tool_calls": [{"function": {"name": "f", "arguments": "{\\"a\\": 1}"}}]}"""));
        assertThat(m.toolCalls()).containsExactly(new ToolCall("f", json("{\"a\": 1}")));
        assertThat(m.toJson().toString()).isEqualTo("{\"role\":\"assistant\",\"content\":\"x\",\"tool_calls\":"
                + "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]}");
    }
}
