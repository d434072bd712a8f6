package org.llama4j.generate;

/** Why a generation ended. */
public enum FinishReason {
    /** The model ended its turn (an end-of-turn/-message/-text token) or a stop string appeared. */
    STOP,
    /** The token budget or the context length ran out. */
    LENGTH,
    /** The caller cancelled it. */
    CANCELLED
}
