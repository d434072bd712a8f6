package org.llama4j.safety.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GuardVerdictTest {
    private static GuardVerdict parse(String answer, HazardCategory... excluded) {
        return GuardVerdict.parse(answer, Set.of(excluded));
    }

    @Test
    void emptyAndWhitespaceCodesAreMalformedAndBlock() {
        GuardVerdict v = parse("unsafe\n ,S1");
        assertThat(v.verdict()).isEqualTo(GuardVerdict.Verdict.UNSAFE);
        assertThat(v.categories()).containsExactly("", "S1");
        assertThat(v.malformedCodes()).containsExactly("");
        assertThat(v.block()).isTrue();
    }

    @Test
    void malformedCodeIsNeverExcludedAway() {
        // S6 is excluded but S06 is not a code: the answer still blocks.
        GuardVerdict v = parse("unsafe\nS6,S06", HazardCategory.S6);
        assertThat(v.verdict()).isEqualTo(GuardVerdict.Verdict.UNSAFE);
        assertThat(v.malformedCodes()).containsExactly("S06");
    }

    @Test
    void pythonWhitespaceIsStripped() {
        assertThat(parse("\u00A0safe\u2007\t").verdict()).isEqualTo(GuardVerdict.Verdict.SAFE);
        assertThat(parse("unsafe\nS1\u00A0, S2 ").categories()).containsExactly("S1", "S2");
    }

    @Test
    void otherShapesAreErrors() {
        for (String answer : List.of("UNSAFE\nS1", "unsafe S1", "unsafe\r\nS1", "safe.", "safe\n\nS1", "unsafe\n\nS1",
                "unsafe\nS1\n\nS2", "unsafe:\nS1")) {
            GuardVerdict v = parse(answer);
            assertThat(v.verdict()).as(answer).isEqualTo(GuardVerdict.Verdict.ERROR);
            assertThat(v.block()).as(answer).isTrue();
        }
    }

    @Test
    void allFourteenExcludedExcludesNothing() {
        GuardOptions options = GuardOptions.defaults().withExcluded(Set.of(HazardCategory.values()));
        assertThat(options.effectiveExcluded()).isEmpty();
        assertThat(GuardVerdict.parse("unsafe\nS1", options.effectiveExcluded()).block()).isTrue();
        GuardOptions thirteen = GuardOptions.defaults().withExcluded(
                Set.copyOf(CategorySet.LLAMA_GUARD_3_1B.categories()));
        assertThat(GuardVerdict.parse("unsafe\nS1", thirteen.effectiveExcluded()).block()).isFalse();
        assertThat(GuardVerdict.parse("unsafe\nS1,S14", thirteen.effectiveExcluded()).block()).isTrue();
    }

    @Test
    void scoreMustBeAProbability() {
        assertThat(parse("safe").withPUnsafe(0.25).pUnsafe()).hasValue(0.25);
        assertThatThrownBy(() -> parse("safe").withPUnsafe(Double.NaN)).hasMessageContaining("probability");
        assertThatThrownBy(() -> parse("safe").withPUnsafe(1.5)).hasMessageContaining("probability");
    }

    @Test
    void safeNeverBlocksAndTheRestAlwaysDo() {
        assertThatThrownBy(() -> new GuardVerdict(GuardVerdict.Verdict.SAFE, List.of(), List.of(), true,
                java.util.OptionalDouble.empty())).hasMessageContaining("must not block");
        assertThatThrownBy(() -> new GuardVerdict(GuardVerdict.Verdict.ERROR, List.of(), List.of(), false,
                java.util.OptionalDouble.empty())).hasMessageContaining("must block");
    }
}
