package org.llama4j.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** {@link ImageTokens#expandPlaceholders}: the template's {@code <|image|>} placeholders become Meta's layouts. */
class PlaceholderExpansionTest {
    private static final ImageTokens IDS = ImageTokens.LLAMA4;
    private static final int N = 4; // tokens per tile
    private static final int S = 56;
    private static final TilePlan ONE_TILE = new TilePlan(56, 56, 56, 56, 56, 56, S);
    private static final TilePlan TWO_BY_THREE = new TilePlan(150, 100, 168, 112, 150, 100, S);

    @Test
    void aPlaceholderBecomesTheImagesLayoutAndTextStaysInPlace() {
        int[] prompt = {200000, 10, IDS.image(), 11, 12};
        int[] got = IDS.expandPlaceholders(prompt, List.of(ONE_TILE), N);
        assertThat(got).containsExactly(200000, 10, IDS.imageStart(), IDS.image(), IDS.patch(), IDS.patch(),
                IDS.patch(), IDS.patch(), IDS.imageEnd(), 11, 12);
    }

    @Test
    void severalImagesAreLaidOutInOrderEachWithItsOwnGrid() {
        int[] prompt = {1, IDS.image(), 2, IDS.image(), 3};
        int[] got = IDS.expandPlaceholders(prompt, List.of(TWO_BY_THREE, ONE_TILE), N);
        int[] grid = IDS.layout(2, 3, N);
        int[] single = IDS.layout(1, 1, N);
        int[] expected = IntStream.concat(IntStream.concat(IntStream.of(1), IntStream.of(grid)),
                IntStream.concat(IntStream.concat(IntStream.of(2), IntStream.of(single)), IntStream.of(3))).toArray();
        assertThat(got).isEqualTo(expected);
        // 6 local tiles + the global one, then 1 tile: (7 + 1) * 4 patch rows
        assertThat(IntStream.of(got).filter(t -> t == IDS.patch()).count()).isEqualTo(32);
        assertThat(got.length).isEqualTo(3 + ImageTokens.layoutLength(2, 3, N) + ImageTokens.layoutLength(1, 1, N));
    }

    @Test
    void placeholderAndImageCountsMustAgree() {
        int[] prompt = {1, IDS.image(), 2, IDS.image()};
        assertThatThrownBy(() -> IDS.expandPlaceholders(prompt, List.of(ONE_TILE), N))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 image placeholder(s)").hasMessageContaining("1 image(s) were given");
        assertThatThrownBy(() -> IDS.expandPlaceholders(new int[] {1, 2}, List.of(ONE_TILE), N))
                .hasMessageContaining("0 image placeholder(s)");
    }

    @Test
    void aPromptThatAlreadyHoldsPatchTokensIsRejected() {
        assertThatThrownBy(() -> IDS.expandPlaceholders(new int[] {1, IDS.patch(), IDS.image()}, List.of(ONE_TILE), N))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already contains <|patch|>");
    }

    @Test
    void withoutPlaceholdersOrImagesNothingChanges() {
        assertThat(IDS.expandPlaceholders(new int[] {5, 6, 7}, List.of(), N)).containsExactly(5, 6, 7);
    }

    @Test
    void layoutLengthIsTheLayoutsSize() {
        for (int r = 1; r <= 4; r++) {
            for (int c = 1; c <= 4; c++) {
                assertThat(ImageTokens.layoutLength(r, c, 144)).isEqualTo(IDS.layout(r, c, 144).length);
            }
        }
    }
}
