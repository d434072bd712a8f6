package org.llama4j.tokenizer;

import java.util.HexFormat;

/** Renders bytes for error messages. */
final class HexFormatting {
    private HexFormatting() {
    }

    static String bytes(byte[] b) {
        String hex = HexFormat.ofDelimiter(" ").formatHex(b, 0, Math.min(b.length, 32));
        return "[" + hex + (b.length > 32 ? " ... (" + b.length + " bytes)" : "") + "]";
    }
}
