package org.llama4j.tokenizer.sentencepiece;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.llama4j.format.ModelFormatException;

/**
 * A minimal reader of the protocol buffers wire format: just enough to walk the messages of a SentencePiece
 * {@code .model} file without a protobuf library. Every malformed byte sequence is a {@link ModelFormatException}
 * that names the file and the byte offset.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] buf;
    private final String source;
    private int pos;
    private final int end;

    ProtoReader(byte[] buf, String source) {
        this(buf, 0, buf.length, source);
    }

    private ProtoReader(byte[] buf, int start, int end, String source) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
        this.source = source;
    }

    boolean hasMore() {
        return pos < end;
    }

    int position() {
        return pos;
    }

    /** Reads a field key; returns {@code fieldNumber << 3 | wireType}. */
    int readTag() {
        int at = pos;
        long tag = readVarint();
        if (tag >>> 3 == 0 || tag > Integer.MAX_VALUE) {
            throw error(at, "invalid field key " + tag);
        }
        return (int) tag;
    }

    long readVarint() {
        int at = pos;
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw error(at, "truncated varint");
            }
            byte b = buf[pos++];
            result |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw error(at, "varint longer than 10 bytes");
    }

    int readInt32() {
        return (int) readVarint();
    }

    boolean readBool() {
        return readVarint() != 0;
    }

    float readFloat() {
        int at = pos;
        if (end - pos < 4) {
            throw error(at, "truncated fixed32");
        }
        int bits = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    /** The payload of a length-delimited field as a reader over the same bytes. */
    ProtoReader readMessage() {
        int[] range = readLengthDelimited();
        return new ProtoReader(buf, range[0], range[1], source);
    }

    byte[] readBytes() {
        int[] range = readLengthDelimited();
        return Arrays.copyOfRange(buf, range[0], range[1]);
    }

    String readString() {
        int at = pos;
        int[] range = readLengthDelimited();
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(buf, range[0], range[1] - range[0]))
                    .toString();
        } catch (CharacterCodingException e) {
            throw error(at, "string field is not valid UTF-8");
        }
    }

    private int[] readLengthDelimited() {
        int at = pos;
        long len = readVarint();
        if (len < 0 || len > end - pos) {
            throw error(at, "length-delimited field of " + len + " bytes overruns its message (" + (end - pos)
                    + " bytes left)");
        }
        int start = pos;
        pos += (int) len;
        return new int[] {start, pos};
    }

    /** Skips the value of a field whose key was {@code tag}. */
    void skip(int tag) {
        int at = pos;
        switch (tag & 7) {
            case VARINT -> readVarint();
            case FIXED64 -> advance(at, 8);
            case LENGTH_DELIMITED -> readLengthDelimited();
            case FIXED32 -> advance(at, 4);
            default -> throw error(at, "field " + (tag >>> 3) + " has unsupported wire type " + (tag & 7));
        }
    }

    /** Fails unless the key {@code tag} has the wire type the schema gives its field. */
    void expectWireType(int tag, int wireType, String field) {
        if ((tag & 7) != wireType) {
            throw error(pos, "field " + field + " (" + (tag >>> 3) + ") has wire type " + (tag & 7) + ", expected "
                    + wireType);
        }
    }

    private void advance(int at, int n) {
        if (end - pos < n) {
            throw error(at, "truncated fixed-width field");
        }
        pos += n;
    }

    ModelFormatException error(int at, String message) {
        return new ModelFormatException(source + ": malformed protobuf at byte " + at + ": " + message);
    }
}
