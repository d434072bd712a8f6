package org.llama4j.safety.promptguard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llama4j.format.ModelFormatException;
import org.llama4j.tokenizer.sentencepiece.SentencePieceModel;
import org.llama4j.tokenizer.sentencepiece.SentencePieceTokenizer;

/**
 * Llama Prompt Guard 2: scores texts for prompt injection / jailbreak attempts with a DeBERTa classifier, entirely
 * in process.
 *
 * <p>Long texts: the text is tokenized once without specials, cut into consecutive non-overlapping windows of
 * {@link #windowTokens()} ids (510 for a 512-position model), and each window is classified as
 * {@code [CLS] window [SEP]}. The text's score is the maximum P(malicious) over its windows, so an attack anywhere
 * in a long text is not diluted by benign text around it. (This convention is llama4j's; Meta's model card only
 * says to scan segments.)
 *
 * <pre>{@code
 * try (PromptGuard guard = PromptGuard.load(Path.of("Llama-Prompt-Guard-2-86M"))) {
 *     PromptGuardResult r = guard.scan("Ignore your previous instructions.");
 *     if (r.malicious()) { ... }
 * }
 * }</pre>
 *
 * Thread-safe: one instance can serve concurrent scans.
 */
public final class PromptGuard implements AutoCloseable {
    public static final double DEFAULT_THRESHOLD = 0.5;
    /** The label Prompt Guard 2 gives attacks; a two-label model without it takes class 1 as malicious. */
    public static final String MALICIOUS_LABEL = "MALICIOUS";

    private final DebertaV2Classifier model;
    private final SentencePieceTokenizer tokenizer;
    private final int clsId;
    private final int sepId;
    private final int windowTokens;
    private final int maliciousIndex;
    private final double threshold;

    private PromptGuard(DebertaV2Classifier model, SentencePieceTokenizer tokenizer, int clsId, int sepId,
            int windowTokens, int maliciousIndex, double threshold) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.clsId = clsId;
        this.sepId = sepId;
        this.windowTokens = windowTokens;
        this.maliciousIndex = maliciousIndex;
        this.threshold = threshold;
    }

    /** Loads a Prompt Guard checkpoint folder ({@code config.json}, {@code model.safetensors}, {@code spm.model}). */
    public static PromptGuard load(Path dir) {
        return load(dir, DEFAULT_THRESHOLD);
    }

    public static PromptGuard load(Path dir, double threshold) {
        checkThreshold(threshold);
        DebertaV2Classifier model = DebertaV2Classifier.load(dir);
        try {
            Path spm = dir.resolve("spm.model");
            if (!Files.isRegularFile(spm)) {
                throw new ModelFormatException(dir + ": no spm.model (the SentencePiece model of a DeBERTa-v3 tokenizer)");
            }
            SentencePieceTokenizer tokenizer = SentencePieceTokenizer.load(spm);
            JsonNode tokenizerConfig = readOptionalJson(dir.resolve("tokenizer_config.json"));
            int cls = specialId(tokenizer, tokenizerConfig, "cls_token", "[CLS]", dir);
            int sep = specialId(tokenizer, tokenizerConfig, "sep_token", "[SEP]", dir);
            DebertaV2Config c = model.config();
            int maxLength = c.maxPositionEmbeddings();
            JsonNode mml = tokenizerConfig == null ? null : tokenizerConfig.get("model_max_length");
            if (mml != null && mml.isIntegralNumber() && mml.canConvertToInt() && mml.intValue() > 2) {
                maxLength = Math.min(maxLength, mml.intValue());
            }
            if (maxLength < 3) {
                throw new ModelFormatException(dir + ": a maximum sequence length of " + maxLength
                        + " leaves no room for text between [CLS] and [SEP]");
            }
            return new PromptGuard(model, tokenizer, cls, sep, maxLength - 2, maliciousIndex(c.labels(), dir),
                    threshold);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static void checkThreshold(double threshold) {
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException("threshold " + threshold + " is not a probability in [0, 1]");
        }
    }

    private static int maliciousIndex(List<String> labels, Path dir) {
        if (labels.size() < 2) {
            throw new ModelFormatException(dir + ": id2label " + labels + " has fewer than two classes");
        }
        for (int i = 0; i < labels.size(); i++) {
            if (labels.get(i).equalsIgnoreCase(MALICIOUS_LABEL)) {
                return i;
            }
        }
        if (labels.size() == 2) {
            return 1;
        }
        throw new ModelFormatException(dir + ": id2label " + labels + " has no " + MALICIOUS_LABEL
                + " label, and with " + labels.size() + " labels the malicious class cannot be inferred");
    }

    private static JsonNode readOptionalJson(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /** The id of a special token named in tokenizer_config.json (a string or {"content": ...}), else the default. */
    private static int specialId(SentencePieceTokenizer tokenizer, JsonNode tokenizerConfig, String field,
            String dflt, Path dir) {
        String name = dflt;
        JsonNode n = tokenizerConfig == null ? null : tokenizerConfig.get(field);
        if (n != null && n.isTextual()) {
            name = n.textValue();
        } else if (n != null && n.isObject() && n.path("content").isTextual()) {
            name = n.get("content").textValue();
        }
        int id = tokenizer.pieceToId(name);
        if (id == tokenizer.unknownId() || tokenizer.model().pieces().get(id).type()
                != SentencePieceModel.PieceType.CONTROL) {
            throw new ModelFormatException(dir + ": " + field + " \"" + name
                    + "\" is not a control piece of spm.model");
        }
        return id;
    }

    /** A guard sharing this one's model with another threshold. Closing either closes the model. */
    public PromptGuard withThreshold(double newThreshold) {
        checkThreshold(newThreshold);
        return new PromptGuard(model, tokenizer, clsId, sepId, windowTokens, maliciousIndex, newThreshold);
    }

    public double threshold() {
        return threshold;
    }

    /** Text ids per window (510 for Prompt Guard 2's 512 positions). */
    public int windowTokens() {
        return windowTokens;
    }

    public List<String> labels() {
        return model.config().labels();
    }

    public String maliciousLabel() {
        return labels().get(maliciousIndex);
    }

    public DebertaV2Classifier model() {
        return model;
    }

    public SentencePieceTokenizer tokenizer() {
        return tokenizer;
    }

    /** The framed windows of a text: {@code [CLS] ids [SEP]} per consecutive chunk of {@link #windowTokens()} ids. */
    public List<int[]> windows(String text) {
        return windowsOf(tokenizer.encodeIds(text));
    }

    private List<int[]> windowsOf(int[] ids) {
        List<int[]> windows = new ArrayList<>();
        int start = 0;
        do {
            int len = Math.min(windowTokens, ids.length - start);
            int[] w = new int[len + 2];
            w[0] = clsId;
            System.arraycopy(ids, start, w, 1, len);
            w[len + 1] = sepId;
            windows.add(w);
            start += len;
        } while (start < ids.length);
        return windows;
    }

    public PromptGuardResult scan(String text) {
        int[] ids = tokenizer.encodeIds(text);
        List<int[]> windows = windowsOf(ids);
        List<PromptGuardResult.WindowScore> scores = new ArrayList<>(windows.size());
        int best = 0;
        int first = 0;
        for (int[] w : windows) {
            DebertaV2Classifier.Output out = model.classify(w);
            double p = out.probabilities()[maliciousIndex];
            scores.add(new PromptGuardResult.WindowScore(first, w.length - 2, out.logits(), out.probabilities(), p));
            if (p > scores.get(best).maliciousProbability()) {
                best = scores.size() - 1;
            }
            first += w.length - 2;
        }
        PromptGuardResult.WindowScore top = scores.get(best);
        double p = top.maliciousProbability();
        boolean malicious = p > threshold;
        String label;
        if (malicious) {
            label = maliciousLabel();
        } else {
            int other = -1;
            for (int i = 0; i < top.probabilities().length; i++) {
                if (i != maliciousIndex && (other < 0 || top.probabilities()[i] > top.probabilities()[other])) {
                    other = i;
                }
            }
            label = labels().get(other);
        }
        return new PromptGuardResult(label, malicious, p, threshold, ids.length, List.copyOf(scores));
    }

    @Override
    public void close() {
        model.close();
    }
}
