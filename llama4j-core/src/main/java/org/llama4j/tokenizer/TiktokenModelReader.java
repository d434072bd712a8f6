package org.llama4j.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.llama4j.format.ModelFormatException;

/**
 * Reads Meta's {@code tokenizer.model}: tiktoken's BPE-ranks format, one {@code <base64 token bytes> <rank>} line
 * per token. The special tokens are not in the file; Meta's {@code tokenizer.py} defines them in code, which
 * {@link TokenizerFamily} reproduces. The family is recognised by the number of ranks.
 */
final class TiktokenModelReader {
    private TiktokenModelReader() {
    }

    static Tokenizer read(Path file) throws IOException {
        byte[][] ranked = readRanks(file);
        TokenizerFamily family = null;
        for (TokenizerFamily f : TokenizerFamily.values()) {
            if (f.rankCount() == ranked.length) {
                family = f;
            }
        }
        if (family == null) {
            throw new ModelFormatException(file + ": a tiktoken tokenizer.model with " + ranked.length
                    + " ranks; expected one of Meta's Llama vocabularies (200000 ranks for Llama 4, 128000 for"
                    + " Llama 3), whose special tokens and pattern are known");
        }
        try {
            return Tokenizer.create(family, ranked, family.metaSpecialTokens());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file + ": " + e.getMessage(), e);
        }
    }

    static byte[][] readRanks(Path file) throws IOException {
        java.util.List<byte[]> byRank = new java.util.ArrayList<>(200_000);
        Base64.Decoder base64 = Base64.getDecoder();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            String line;
            int lineNumber = 0;
            while ((line = in.readLine()) != null) {
                lineNumber++;
                if (line.isEmpty()) {
                    continue; // tiktoken's loader skips empty lines too
                }
                int space = line.indexOf(' ');
                if (space <= 0 || space != line.lastIndexOf(' ')) {
                    throw new ModelFormatException(file + " line " + lineNumber
                            + ": expected '<base64 token> <rank>', found '" + abbreviate(line) + "'");
                }
                byte[] token;
                int rank;
                try {
                    token = base64.decode(line.substring(0, space));
                    rank = Integer.parseInt(line.substring(space + 1));
                } catch (IllegalArgumentException e) {
                    throw new ModelFormatException(file + " line " + lineNumber
                            + ": expected '<base64 token> <rank>', found '" + abbreviate(line) + "' ("
                            + e.getMessage() + ")", e);
                }
                if (rank != byRank.size()) {
                    throw new ModelFormatException(file + " line " + lineNumber + ": expected rank "
                            + byRank.size() + " (ranks must run 0, 1, 2, ... so that rank = token id), found "
                            + rank);
                }
                byRank.add(token);
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new ModelFormatException(file + ": not a tiktoken ranks file (non-ASCII content)", e);
        }
        if (byRank.isEmpty()) {
            throw new ModelFormatException(file + ": empty; expected tiktoken '<base64 token> <rank>' lines");
        }
        return byRank.toArray(byte[][]::new);
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }
}
