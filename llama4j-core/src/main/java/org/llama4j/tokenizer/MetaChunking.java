package org.llama4j.tokenizer;

/**
 * The cutting Meta's {@code Tokenizer.encode} does before tiktoken sees the text: windows of at most 400,000
 * code points, and inside each window a cut before any character that would make a run of consecutive
 * whitespace or non-whitespace characters (Python {@code str.isspace}) longer than 25,000. The pieces are
 * encoded independently, so this changes ids (30,001 × "a" encodes to one more id than tiktoken alone gives).
 * Ported from {@code _split_whitespaces_or_nonwhitespaces} in llama-models' {@code tokenizer.py}.
 */
final class MetaChunking {
    static final int MAX_ENCODE_CHARS = 400_000;
    static final int MAX_RUN_CHARS = 25_000;

    private MetaChunking() {
    }

    /** Receives each piece {@code [start, end)} of a window in order. */
    @FunctionalInterface
    interface PieceSink {
        void piece(int start, int end);
    }

    /** Cuts {@code text[start, end)} (one window) into pieces whose same-kind runs are at most 25,000 long. */
    static void splitRuns(int[] text, int start, int end, PieceSink sink) {
        if (start == end) {
            sink.piece(start, end);
            return;
        }
        boolean runIsSpace = CodePointClasses.isPythonSpace(text[start]);
        int runLength = 0;
        int pieceStart = start;
        for (int i = start; i < end; i++) {
            boolean isSpace = CodePointClasses.isPythonSpace(text[i]);
            if (isSpace != runIsSpace) {
                runLength = 1;
                runIsSpace = isSpace;
            } else if (++runLength > MAX_RUN_CHARS) {
                sink.piece(pieceStart, i);
                pieceStart = i;
                runLength = 1;
            }
        }
        sink.piece(pieceStart, end);
    }
}
