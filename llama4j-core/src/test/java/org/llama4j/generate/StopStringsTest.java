package org.llama4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringsTest {

    private static String feed(StopStrings s, String... deltas) {
        StringBuilder out = new StringBuilder();
        for (String d : deltas) {
            out.append(s.push(d));
        }
        out.append(s.flush());
        return out.toString();
    }

    @Test
    void stopsBeforeTheStopStringEvenWhenSplitAcrossDeltas() {
        StopStrings s = new StopStrings(List.of("END"));
        assertThat(s.push("hello E")).isEqualTo("hello ");
        assertThat(s.push("N")).isEmpty();
        assertThat(s.push("D and more")).isEmpty();
        assertThat(s.stopped()).isTrue();
        assertThat(s.matched()).isEqualTo("END");
        assertThat(s.push("x")).isEmpty();
    }

    @Test
    void heldBackTextIsReleasedWhenItIsNotAStop() {
        StopStrings s = new StopStrings(List.of("END"));
        assertThat(feed(s, "E", "N", "x", "!")).isEqualTo("ENx!");
        assertThat(s.stopped()).isFalse();
    }

    @Test
    void earliestOfSeveralStopsWins() {
        StopStrings s = new StopStrings(List.of("world", "lo w"));
        assertThat(feed(s, "hel", "lo world")).isEqualTo("hel");
        assertThat(s.matched()).isEqualTo("lo w");
    }

    @Test
    void everySplitPointGivesTheSameResult() {
        String text = "abc STOP def";
        for (int i = 0; i <= text.length(); i++) {
            StopStrings s = new StopStrings(List.of("STOP"));
            assertThat(feed(s, text.substring(0, i), text.substring(i))).isEqualTo("abc ");
        }
    }

    @Test
    void noStopsPassesThrough() {
        StopStrings s = new StopStrings(List.of());
        assertThat(s.push("abc")).isEqualTo("abc");
    }

    @Test
    void surrogatePairsAreNotSplit() {
        StopStrings s = new StopStrings(List.of("\uDE00x"));
        String out = s.push("a\uD83D\uDE00");
        // the emoji's low surrogate could start the stop string; its high surrogate must be held with it
        assertThat(out).isEqualTo("a");
        assertThat(s.flush()).isEqualTo("\uD83D\uDE00");
    }
}
