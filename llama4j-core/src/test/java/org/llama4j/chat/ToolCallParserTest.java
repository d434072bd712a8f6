package org.llama4j.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ToolCallParserTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static List<ToolCall> calls(String output) {
        ToolCallParse p = ToolCallParser.parse(output);
        assertThat(p).as(output).isInstanceOf(ToolCallParse.Calls.class);
        return ((ToolCallParse.Calls) p).calls();
    }

    static String json(ToolCall c) {
        return c.name() + " " + c.arguments();
    }

    @Test
    void jsonWithParametersOrArguments() {
        assertThat(calls("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Lisbon\", \"n\": 2}}"))
                .extracting(ToolCallParserTest::json).containsExactly("get_weather {\"city\":\"Lisbon\",\"n\":2}");
        assertThat(calls("{\"name\": \"f\", \"arguments\": \"{\\\"x\\\": [1, 2]}\"}"))
                .extracting(ToolCallParserTest::json).containsExactly("f {\"x\":[1,2]}");
        assertThat(calls("{\"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": {}}}"))
                .extracting(ToolCallParserTest::json).containsExactly("f {}");
    }

    @Test
    void severalJsonCallsSeparatedBySemicolonsNewlinesOrInAnArray() {
        String a = "{\"name\": \"a\", \"parameters\": {\"s\": \"x; }{\"}}";
        String b = "{\"name\": \"b\", \"parameters\": {}}";
        assertThat(calls(a + "; " + b)).extracting(ToolCall::name).containsExactly("a", "b");
        assertThat(calls(a + "\n" + b)).extracting(ToolCall::name).containsExactly("a", "b");
        assertThat(calls("[" + a + ", " + b + "]")).extracting(ToolCall::name).containsExactly("a", "b");
        assertThat(calls(a).getFirst().arguments().get("s").asText()).isEqualTo("x; }{");
    }

    @Test
    void pythonStartWrapperAndLeadingContent() {
        ToolCallParse p = ToolCallParser.parse(
                "Let me check.<|python_start|>{\"name\": \"f\", \"parameters\": {\"q\": 1}}<|python_end|>");
        assertThat(p).isEqualTo(new ToolCallParse.Calls(List.of(new ToolCall("f",
                JSON.createObjectNode().put("q", 1))), "Let me check."));
        assertThat(calls("<|python_start|>get_time(zone='UTC')<|python_end|>")).extracting(ToolCallParserTest::json)
                .containsExactly("get_time {\"zone\":\"UTC\"}");
    }

    @Test
    void pythonicCallsWithNestedLiterals() {
        List<ToolCall> c = calls("[get_weather(city=\"Lisbon\", unit='c'), other(x=1, y=-2.5e3, ok=True, no=False, "
                + "nothing=None, items=[1, 'two', [3]], opts={'a': \"b\\\"q\", \"n\": (1, 2)}, esc='it\\'s\\n\\u00e9')]");
        assertThat(c).extracting(ToolCall::name).containsExactly("get_weather", "other");
        assertThat(c.get(0).arguments().toString()).isEqualTo("{\"city\":\"Lisbon\",\"unit\":\"c\"}");
        assertThat(c.get(1).arguments().toString()).isEqualTo("{\"x\":1,\"y\":-2500.0,\"ok\":true,\"no\":false,"
                + "\"nothing\":null,\"items\":[1,\"two\",[3]],\"opts\":{\"a\":\"b\\\"q\",\"n\":[1,2]},"
                + "\"esc\":\"it's\\né\"}");
        assertThat(calls("[ping()]")).extracting(ToolCallParserTest::json).containsExactly("ping {}");
        assertThat(calls("[brave_search.call(query=\"x\")]")).extracting(ToolCall::name).containsExactly("brave_search");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "The weather in Lisbon is sunny.",
        "",
        "{\"name\": \"f\", \"parameters\": {\"x\": 1}",          // truncated JSON
        "{\"parameters\": {}}",                                 // no name
        "{\"name\": \"f\", \"parameters\": [1]}",               // arguments not an object
        "{\"name\": \"f\"} and some prose",
        "[get_weather(city=\"Lisbon\")",                        // unclosed list
        "[get_weather(\"Lisbon\")]",                            // positional argument
        "[f(x=1, x=2)]",                                        // repeated keyword
        "[f(x=open('file'))]",                                  // not a literal
        "[f(x='unterminated)]",
        "print(x=1)",                                           // bare call outside python_start is prose
        "[1, 2, 3]",
        "<|python_start|><|python_end|>",
    })
    void malformedOutputIsPlainText(String output) {
        assertThat(ToolCallParser.parse(output)).isEqualTo(new ToolCallParse.Text(output));
    }

    @Test
    void deeplyNestedInputDoesNotBlowUp() {
        String deep = "[f(x=" + "[".repeat(5000) + "]".repeat(5000) + ")]";
        assertThat(ToolCallParser.parse(deep)).isInstanceOf(ToolCallParse.Text.class);
    }
}
