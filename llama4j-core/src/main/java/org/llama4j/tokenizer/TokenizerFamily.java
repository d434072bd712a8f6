package org.llama4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * What distinguishes the Llama tokenizers that share tiktoken's BPE: the pre-tokenizer pattern, the number of
 * BPE ranks, Meta's special-token list (in id order, right after the ranks) and the names of the tokens the
 * engine needs. Both lists are built the way llama-models' {@code tokenizer.py} builds them.
 */
public enum TokenizerFamily {
    /** Llama 4 ({@code models/llama4/tokenizer.py}): 200,000 ranks + 2,048 specials. */
    LLAMA4(PreTokenizer.LLAMA4, 200_000, llama4SpecialTokens(), Set.of("llama4"),
            "<|begin_of_text|>", "<|end_of_text|>", "<|eot|>", "<|eom|>", "<|finetune_right_pad|>"),
    /** Llama 3, 3.1, 3.2, 3.3, Llama Guard 3 ({@code models/llama3/tokenizer.py}): 128,000 ranks + 256 specials. */
    LLAMA3(PreTokenizer.LLAMA3, 128_000, llama3SpecialTokens(), Set.of("llama-bpe", "llama3"),
            "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|finetune_right_pad_id|>");

    private final PreTokenizer preTokenizer;
    private final int rankCount;
    private final List<String> metaSpecialTokens;
    private final Set<String> ggufPreNames;
    private final String bos;
    private final String eos;
    private final String eot;
    private final String eom;
    private final String pad;

    TokenizerFamily(PreTokenizer preTokenizer, int rankCount, List<String> metaSpecialTokens,
                    Set<String> ggufPreNames, String bos, String eos, String eot, String eom, String pad) {
        this.preTokenizer = preTokenizer;
        this.rankCount = rankCount;
        this.metaSpecialTokens = metaSpecialTokens;
        this.ggufPreNames = ggufPreNames;
        this.bos = bos;
        this.eos = eos;
        this.eot = eot;
        this.eom = eom;
        this.pad = pad;
    }

    public PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    /** Number of BPE ranks in Meta's {@code tokenizer.model}; the specials' ids start here. */
    public int rankCount() {
        return rankCount;
    }

    /** Meta's special tokens in id order: token {@code i} has id {@code rankCount() + i}. */
    public List<String> metaSpecialTokens() {
        return metaSpecialTokens;
    }

    /** The {@code tokenizer.ggml.pre} values llama.cpp writes for this family. */
    public Set<String> ggufPreNames() {
        return ggufPreNames;
    }

    public String bosToken() {
        return bos;
    }

    /** End of text: Meta's {@code eos_id}. */
    public String eosToken() {
        return eos;
    }

    /** End of turn. */
    public String eotToken() {
        return eot;
    }

    /** End of message (the model expects a tool result next). */
    public String eomToken() {
        return eom;
    }

    public String padToken() {
        return pad;
    }

    /** Meta's {@code stop_tokens}: end of text, end of message, end of turn. */
    public List<String> stopTokens() {
        return List.of(eos, eom, eot);
    }

    private static List<String> reserved(String prefix, int fromInclusive, int toExclusive) {
        return IntStream.range(fromInclusive, toExclusive).mapToObj(i -> "<|" + prefix + i + "|>").toList();
    }

    private static List<String> llama4SpecialTokens() {
        List<String> t = new ArrayList<>(2048);
        t.addAll(List.of("<|begin_of_text|>", "<|end_of_text|>", "<|fim_prefix|>", "<|fim_middle|>",
                "<|fim_suffix|>"));
        // TEXT_POST_TRAIN_SPECIAL_TOKENS: the reserved numbering skips 6 and 7, whose slots hold python/pad.
        t.addAll(List.of("<|header_start|>", "<|header_end|>", "<|eom|>", "<|eot|>", "<|step|>"));
        t.addAll(reserved("text_post_train_reserved_special_token_", 0, 6));
        t.addAll(List.of("<|python_start|>", "<|python_end|>", "<|finetune_right_pad|>"));
        t.addAll(reserved("text_post_train_reserved_special_token_", 8, 69));
        // VISION_SPECIAL_TOKENS
        t.addAll(List.of("<|image_start|>", "<|image_end|>"));
        t.addAll(reserved("vision_reserved_special_token_", 0, 2));
        t.addAll(List.of("<|tile_x_separator|>", "<|tile_y_separator|>"));
        t.addAll(reserved("vision_reserved_special_token_", 2, 6));
        t.add("<|image|>");
        t.addAll(reserved("vision_reserved_special_token_", 6, 7));
        t.add("<|patch|>");
        t.addAll(reserved("vision_reserved_special_token_", 7, 1048));
        // REASONING_SPECIAL_TOKENS
        t.addAll(reserved("reasoning_reserved_special_token_", 0, 8));
        t.addAll(List.of("<|reasoning_thinking_start|>", "<|reasoning_thinking_end|>"));
        // The rest of the 2048 slots.
        t.addAll(reserved("reserved_special_token_", 0, 2048 - t.size()));
        return List.copyOf(t);
    }

    private static List<String> llama3SpecialTokens() {
        List<String> t = new ArrayList<>(256);
        t.addAll(List.of("<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>",
                "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>", "<|image|>"));
        t.addAll(reserved("reserved_special_token_", 2, 2 + 256 - t.size()));
        return List.copyOf(t);
    }
}
