package org.llama4j.chat.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TemplateTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static String render(String template, Object... keyValues) {
        return renderWith(Template.Options.HUGGING_FACE, template, keyValues);
    }

    static String renderWith(Template.Options options, String template, Object... keyValues) {
        Map<String, Object> vars = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            vars.put((String) keyValues[i], keyValues[i + 1]);
        }
        return Template.parse(template, options).render(vars).text();
    }

    static Object json(String s) {
        try {
            return Values.fromJson(JSON.readTree(s), true);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    // ---------------------------------------------------------------- precedence

    @ParameterizedTest
    @CsvSource(delimiterString = "==>", value = {
        "{{ not x is defined }}==>True",            // not (x is defined), the Jinjava bug
        "{{ not tools is none }}==>True",             // undefined is not none
        "{{ not none is none }}==>False",
        "{{ 1 + 2 * 3 }}==>7",
        "{{ (1 + 2) * 3 }}==>9",
        "{{ 2 ** 3 ** 2 }}==>64",                    // Jinja's ** is left-associative
        "{{ -2 ** 2 }}==>4",
        "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }}==>3 -4 1 2 3.5",
        "{{ 'x' ~ 2 * 3 }}==>x6",
        "{{ 'a' ~ 1 ~ none }}==>a1None",
        "{{ true and false or true }}==>True",
        "{{ not true and false }}==>False",
        "{{ not (true and false) }}==>True",
        "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}==>True False",
        "{{ 'b' in 'abc' }} {{ 'd' not in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }}==>True True True True",
        "{{ 'yes' if 1 > 2 else 'no' }}==>no",
        "{{ 'a' if false }}==>",
        "{{ [1, 2, 3]|length > 2 }}==>True",
        "{{ -1|abs }}==>1",
        "{{ 3 is odd and 4 is even and 9 is divisibleby 3 and 9 is divisibleby(4) == false }}==>True",
        "{{ x is not defined }} {{ none is none }} {{ 'a' is string }} {{ {} is mapping }}==>True True True True",
        "{{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ 1.5 is number }} {{ true is boolean }}==>True True False True True",
        "{{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ 'a' is in ['a'] }} {{ x is undefined }}==>True True True True",
        "{{ 0 or 'fallback' }} {{ 'x' and 'y' }}==>fallback y",
        "{{ 1 == 1.0 }} {{ true == 1 }} {{ [1, 2] == [1, 2] }}==>True True True",
    })
    void expressions(String template, String expected) {
        assertThat(render(template)).isEqualTo(expected == null ? "" : expected);
    }

    @Test
    void literals() {
        assertThat(render("{{ 'it\\'s' }} {{ \"a\\tb\\n\" }} {{ '\\u00e9' }} {{ 'ab' 'cd' }}")).isEqualTo("it's a\tb\n é abcd");
        assertThat(render("{{ [1, 'a', none, true, 1.5, (1,), {'k': [2]}] }}"))
                .isEqualTo("[1, 'a', None, True, 1.5, (1,), {'k': [2]}]");
        assertThat(render("{{ 1e20 }} {{ 0.1 + 0.2 }} {{ 1.0 }} {{ 1_000 }} {{ 2.5e-5 }}"))
                .isEqualTo("1e+20 0.30000000000000004 1.0 1000 2.5e-05");
        assertThat(render("{{ True }} {{ False }} {{ None }}")).isEqualTo("True False None");
    }

    @Test
    void attributeItemAndSlice() {
        Object m = json("{\"a\": {\"b\": [10, 20, 30]}, \"s\": \"hello\"}");
        assertThat(render("{{ m.a.b[1] }} {{ m['a']['b'][-1] }} {{ m.a.b[1:] }} {{ m.s[::-1] }} {{ m.s[1:3] }}", "m", m))
                .isEqualTo("20 30 [20, 30] olleh el");
        assertThat(render("{{ m.a.b[:-1] }} {{ m.a.b[::2] }} {{ m.s[10:] }}|", "m", m)).isEqualTo("[10, 20] [10, 30] |");
    }

    // ---------------------------------------------------------------- whitespace

    @Test
    void whitespaceControl() {
        assertThat(render("a  {{- 'b' -}}  \n c")).isEqualTo("abc");
        assertThat(render("a  {%- if true -%}  b  {%- endif -%}  c")).isEqualTo("abc");
        assertThat(render("{# comment #}x{#- c -#}  y")).isEqualTo("xy");
    }

    @Test
    void trimAndLstripBlocks() {
        String t = "<ul>\n    {% for i in [1, 2] %}\n    <li>{{ i }}</li>\n    {% endfor %}\n</ul>";
        assertThat(render(t)).isEqualTo("<ul>\n    <li>1</li>\n    <li>2</li>\n</ul>");
        assertThat(renderWith(Template.Options.JINJA_DEFAULT, t))
                .isEqualTo("<ul>\n    \n    <li>1</li>\n    \n    <li>2</li>\n    \n</ul>");
        // {%+ disables lstrip, +%} disables trim_blocks
        assertThat(render("  {%+ if true %}x{% endif +%}\ny")).isEqualTo("  x\ny");
        // a variable tag is not a block: no lstrip, no trim
        assertThat(render("  {{ 'v' }}\nz")).isEqualTo("  v\nz");
        // one trailing newline of the source is dropped (keep_trailing_newline=False)
        assertThat(render("a\n")).isEqualTo("a");
        assertThat(render("a\n\n")).isEqualTo("a\n");
    }

    @Test
    void raw() {
        assertThat(render("{% raw %}{{ not parsed }}{% endraw %}")).isEqualTo("{{ not parsed }}");
    }

    // ---------------------------------------------------------------- statements

    @Test
    void loops() {
        assertThat(render("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}"
                + "{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ x }};{% endfor %}"))
                .isEqualTo("103TrueFalse3a;212FalseFalse3b;321FalseTrue3c;");
        assertThat(render("{% for x in [] %}x{% else %}empty{% endfor %}")).isEqualTo("empty");
        assertThat(render("{% for x in range(10) if x is odd %}{{ x }}{{ '/' ~ loop.length if loop.last }}{% endfor %}"))
                .isEqualTo("13579/5");
        assertThat(render("{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}", "d", json("{\"a\": 1, \"b\": [2]}")))
                .isEqualTo("a=1,b=[2],");
        assertThat(render("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}"
                + "{% endif %}{{ x }}{% endfor %}")).isEqualTo("013");
        assertThat(render("{% for a in [1, 2] %}{% for b in [3] %}{{ loop.depth }}{{ a }}{{ b }}{% endfor %}{% endfor %}"))
                .isEqualTo("213223");
        assertThat(render("{% for x in 'ab' %}{{ loop.cycle('o', 'e') }}{{ x }}{% endfor %}")).isEqualTo("oaeb");
    }

    @Test
    void scopingAndNamespaces() {
        assertThat(render("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{% endfor %}{{ x }}")).isEqualTo("1");
        assertThat(render("{% set ns = namespace(x=1) %}{% for i in [1, 2] %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}"))
                .isEqualTo("4");
        assertThat(render("{% if true %}{% set y = 'leaks' %}{% endif %}{{ y }}")).isEqualTo("leaks");
        assertThat(render("{% set a, b = [1, 2] %}{{ b }}{{ a }}")).isEqualTo("21");
        assertThat(render("{% set block %}  inner {{ 1 }} {% endset %}[{{ block }}]")).isEqualTo("[  inner 1 ]");
        assertThat(render("{% set up | upper %}abc{% endset %}{{ up }}")).isEqualTo("ABC");
        assertThat(render("{% with a = 5 %}{{ a }}{% endwith %}[{{ a }}]")).isEqualTo("5[]");
        assertThat(render("{% set ns = namespace(items=[]) %}{% do ns.items.append(1) %}{{ ns.items }}")).isEqualTo("[1]");
    }

    @Test
    void macrosAndCallBlocks() {
        assertThat(render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
                + "{{ greet('Ana') }} {{ greet('Bo', punct='?') }} {{ greet(name='Cy') }}"))
                .isEqualTo("Hi Ana! Hi Bo? Hi Cy!");
        assertThat(render("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}"
                + "{% call wrap('b') %}bold{% endcall %}")).isEqualTo("<b>bold</b>");
        assertThat(render("{% macro fact(n) %}{{ 1 if n <= 1 else n * fact(n - 1)|int }}{% endmacro %}{{ fact(5) }}"))
                .isEqualTo("120");
        assertThat(render("{% filter upper %}shout {{ 'it' }}{% endfilter %}")).isEqualTo("SHOUT IT");
        assertThat(render("{% generation %}kept{% endgeneration %}")).isEqualTo("kept");
    }

    // ---------------------------------------------------------------- filters and methods

    @Test
    void filters() {
        assertThat(render("{{ '  x  '|trim }}|{{ 'abc'|upper }}|{{ 'ABC'|lower }}|{{ 'hello world'|title }}|"
                + "{{ 'hELLO'|capitalize }}")).isEqualTo("x|ABC|abc|Hello World|Hello");
        assertThat(render("{{ x|default('d') }} {{ ''|default('e', true) }} {{ ''|d('f') }}|")).isEqualTo("d e |");
        assertThat(render("{{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true)|first }} {{ [1, 2]|last }} "
                + "{{ [1, 2, 1]|unique|list }} {{ [1, 2]|reverse|list }} {{ 'ab'|list }}"))
                .isEqualTo("[1, 2, 3] 3 2 [1, 2] [2, 1] ['a', 'b']");
        assertThat(render("{{ ['a', 'b']|join(', ') }} {{ [1, 2]|join }} {{ 'a-b'|replace('-', '+') }} {{ 3.7|int }} "
                + "{{ '4'|int + 1 }} {{ 'x'|int(7) }} {{ 2|float }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ -3|abs }}"))
                .isEqualTo("a, b 12 a+b 3 5 7 2.0 2.57 2.0 3"); // Python round(): half-even
        Object users = json("[{\"name\": \"a\", \"admin\": true, \"age\": 3}, {\"name\": \"b\", \"admin\": false, \"age\": 1}]");
        assertThat(render("{{ users|selectattr('admin')|map(attribute='name')|list }} "
                + "{{ users|rejectattr('admin')|map(attribute='name')|join }} "
                + "{{ users|selectattr('name', 'equalto', 'b')|map(attribute='age')|first }} "
                + "{{ users|sort(attribute='age')|map(attribute='name')|join }} "
                + "{{ [1, 2, 3, 4]|select('even')|list }} {{ ['a', 'B']|map('upper')|list }} "
                + "{{ users|map(attribute='missing', default='-')|join }}", "users", users))
                .isEqualTo("['a'] b 1 ba [2, 4] ['A', 'B'] --");
        assertThat(render("{{ {'b': 1, 'a': 2}|dictsort }} {{ {'a': 1}|items|list }} {{ [1, 2, 3]|batch(2)|list }} "
                + "{{ 'a\\nb'|indent(2) }} {{ '<b>x</b>'|striptags }} {{ [1, 2, 3]|sum }} {{ [2, 1]|min }} {{ 'x'|string }}"))
                .isEqualTo("[('a', 2), ('b', 1)] [('a', 1)] [[1, 2], [3]] a\n  b x 6 1 x");
        assertThat(render("{{ '%s=%s' % ('a', 1) }} {{ 'n: %d' % 4 }}")).isEqualTo("a=1 n: 4");
        assertThat(render("{{ '%s is %d'|format('x', 3) }} {{ 'a&b'|e }} {{ 'hello'|length }} {{ {'a': 1}|count }}"))
                .isEqualTo("x is 3 a&amp;b 5 1");
    }

    @Test
    void pythonMethods() {
        assertThat(render("{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|"
                + "{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'a,b,,c'.split(',') }}|"
                + "{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|"
                + "{{ 'aXa'.replace('a', 'b') }}|{{ '-'.join(['x', 'y']) }}|{{ 'abc'.find('c') }}|{{ 'a\\nb'.splitlines() }}"))
                .isEqualTo("a b|a|a|a|True|True|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|ABab|bXb|x-y|2|['a', 'b']");
        Object d = json("{\"a\": 1, \"b\": null}");
        assertThat(render("{{ d.keys()|list }} {{ d.values()|list }} {{ d.get('a') }} {{ d.get('z', 'no') }} {{ d.get('z') }}",
                "d", d)).isEqualTo("['a', 'b'] [1, None] 1 no None");
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        Object v = json("{\"b\": 1, \"a\": [1.5, true, null, \"é\\\"\\n\"], \"e\": {}, \"l\": []}");
        assertThat(render("{{ v|tojson }}", "v", v))
                .isEqualTo("{\"b\": 1, \"a\": [1.5, true, null, \"é\\\"\\n\"], \"e\": {}, \"l\": []}");
        assertThat(render("{{ v|tojson(indent=2) }}", "v", v)).isEqualTo("""
                {
                  "b": 1,
                  "a": [
                    1.5,
                    true,
                    null,
                    "é\\"\\n"
                  ],
                  "e": {},
                  "l": []
                }""");
        assertThat(render("{{ v|tojson(sort_keys=true, separators=[',', ':']) }}", "v", json("{\"b\": 1, \"a\": 2}")))
                .isEqualTo("{\"a\":2,\"b\":1}");
        assertThat(render("{{ 'é'|tojson(ensure_ascii=true) }} {{ 1e100|tojson }} {{ '<'|tojson }}"))
                .isEqualTo("\"\\u00e9\" 1e+100 \"<\"");
    }

    // ---------------------------------------------------------------- undefined, errors, limits

    @Test
    void undefinedBehavesLikeJinjasDefault() {
        assertThat(render("[{{ missing }}]{% for x in missing %}x{% endfor %}{{ missing|length }}{{ missing is defined }}"))
                .isEqualTo("[]0False");
        assertThat(render("{{ d.nope is defined }} {{ d['nope'] is defined }} [{{ d.nope }}]", "d", json("{}")))
                .isEqualTo("False False []");
        assertThat(render("[{{ none.attr }}{{ none['k'] }}{{ [1][5] }}{{ 'abc'.nomethod }}]")).isEqualTo("[]");
        assertThat(render("{% macro m(a) %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ m(1, 2, k=3) }}"))
                .isEqualTo("(){}|(2,){'k': 3}");
        assertThatThrownBy(() -> render("{{ none|abs }}")).hasMessageContaining("bad operand type for abs()");
        assertThatThrownBy(() -> render("{{ missing.attr }}")).isInstanceOf(TemplateRuntimeException.class)
                .hasMessageContaining("'missing' is undefined").hasMessageStartingWith("line 1, column");
        assertThatThrownBy(() -> render("{{ missing + 1 }}")).hasMessageContaining("'missing' is undefined");
        assertThatThrownBy(() -> render("{{ missing() }}")).hasMessageContaining("'missing' is undefined");
        assertThatThrownBy(() -> render("{{ none|tojson }}{{ missing|tojson }}")).hasMessageContaining("undefined");
        assertThatThrownBy(() -> render("{% for x in 5 %}{% endfor %}")).hasMessageContaining("'int' object is not iterable");
    }

    @Test
    void errorsNameTheLineAndColumn() {
        assertThatThrownBy(() -> Template.parse("ok\n{% if x %}\nno end"))
                .isInstanceOf(TemplateSyntaxException.class)
                .satisfies(e -> assertThat(((TemplateException) e).line()).isEqualTo(2))
                .hasMessageContaining("missing '{% endif %}'");
        assertThatThrownBy(() -> Template.parse("{{ 1 + }}")).isInstanceOf(TemplateSyntaxException.class)
                .hasMessageStartingWith("line 1, column 8");
        assertThatThrownBy(() -> Template.parse("{% frobnicate %}")).hasMessageContaining("unknown tag 'frobnicate'");
        assertThatThrownBy(() -> Template.parse("{{ 'open }}")).hasMessageContaining("unterminated string");
        assertThatThrownBy(() -> Template.parse("{% endfor %}")).hasMessageContaining("unexpected 'endfor'");
        assertThatThrownBy(() -> render("a\n  {{ 'x' + 1 }}")).isInstanceOf(TemplateRuntimeException.class)
                .hasMessage("line 2, column 10: can only concatenate str (not \"int\") to str");
        // ~ binds tighter than +, as in Jinja: ('1' ~ '2') + 3 is a type error
        assertThatThrownBy(() -> render("{{ 1 ~ 2 + 3 }}")).hasMessageContaining("can only concatenate str");
        assertThatThrownBy(() -> render("{{ 1|nosuchfilter }}")).hasMessageContaining("no filter named 'nosuchfilter'");
        assertThatThrownBy(() -> render("{{ 1 is nosuchtest }}")).hasMessageContaining("no test named 'nosuchtest'");
        assertThatThrownBy(() -> render("\n{{ raise_exception('Bad roles!') }}"))
                .isInstanceOf(TemplateRaisedException.class).hasMessage("Bad roles!")
                .satisfies(e -> assertThat(((TemplateException) e).line()).isEqualTo(2));
        assertThatThrownBy(() -> render("{% set x = 1 %}{% set x.y = 2 %}")).hasMessageContaining("namespace");
    }

    @Test
    void hostileTemplatesHitLimitsNotTheServer() {
        TemplateLimits small = new TemplateLimits(100_000, 10_000, 20, 10_000);
        assertThatThrownBy(() -> Template.parse("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}")
                .render(Map.of(), small)).isInstanceOf(TemplateLimitException.class).hasMessageContaining("steps");
        assertThatThrownBy(() -> Template.parse("{% for i in range(100) %}{{ 'x' * 1000 }}{% endfor %}")
                .render(Map.of(), small)).isInstanceOf(TemplateLimitException.class).hasMessageContaining("output");
        assertThatThrownBy(() -> Template.parse("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").render(Map.of(), small))
                .isInstanceOf(TemplateLimitException.class).hasMessageContaining("nested deeper");
        assertThatThrownBy(() -> Template.parse("{{ range(10**9)|length }}").render(Map.of(), small))
                .isInstanceOf(TemplateLimitException.class);
        assertThatThrownBy(() -> Template.parse("{{ 'x' * 10**12 }}").render(Map.of(), small))
                .isInstanceOf(TemplateLimitException.class);
        assertThatThrownBy(() -> Template.parse("{{ 10 ** 100 }}").render(Map.of(), small))
                .isInstanceOf(TemplateRuntimeException.class).hasMessageContaining("overflow");
        assertThatThrownBy(() -> Template.parse("{{ " + "(".repeat(10_000) + "1" + ")".repeat(10_000) + " }}"))
                .isInstanceOf(TemplateSyntaxException.class).hasMessageContaining("nesting");
        assertThat(Template.parse("{{ x.__class__ }}|{{ ''.__class__ }}").render(Map.of("x", json("{}"))).text())
                .isEqualTo("|"); // no Java or Python object model is reachable
    }

    // ---------------------------------------------------------------- provenance

    @Test
    void inputMarksSurviveConcatenationSlicingAndFilters() {
        JStr out = Template.parse("[{{ ('<' ~ c ~ '>')|upper }}|{{ (c + '!')[1:] }}|{{ c|trim|replace('b', 'X') }}]")
                .render(Map.of("c", JStr.input(" ab ")));
        assertThat(out.text()).isEqualTo("[< AB >|ab !|aX]");
        StringBuilder mask = new StringBuilder();
        for (int i = 0; i < out.length(); i++) {
            mask.append(out.isInput(i) ? 'i' : 't');
        }
        // input: " AB ", "ab " and "a"; template: brackets, '<', '>', '|', '!' and the replacement 'X'
        assertThat(mask.toString()).isEqualTo("tt" + "iiii" + "tt" + "iii" + "tt" + "i" + "tt");
    }

    @Test
    void tojsonOfInputIsInputAndOfTemplateLiteralsIsTemplate() {
        JStr out = Template.parse("{{ d|tojson }}{{ {'k': 1}|tojson }}").render(Map.of("d", json("{\"a\": \"<|eot|>\"}")));
        assertThat(out.text()).isEqualTo("{\"a\": \"<|eot|>\"}{\"k\": 1}");
        int split = "{\"a\": \"<|eot|>\"}".length();
        for (int i = 0; i < out.length(); i++) {
            assertThat(out.isInput(i)).as("char %d", i).isEqualTo(i < split);
        }
    }

    @Test
    void jsonValuesConvert() {
        assertThat(render("{{ v }}", "v", List.of(1, "a", 2.5, true))).isEqualTo("[1, 'a', 2.5, True]");
    }
}
