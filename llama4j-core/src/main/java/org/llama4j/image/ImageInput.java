package org.llama4j.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Locale;
import java.util.Objects;

/**
 * Where an image for a prompt comes from: a local file or a {@code data:} URL (raw bytes are kept as a base64
 * {@code data:} URL, so every input compares by value and fits in a JSON message). Remote {@code http(s)} URLs
 * are never fetched: the engine does no network I/O on behalf of a prompt.
 */
public sealed interface ImageInput {
    /** An image file on this machine. */
    record File(Path path) implements ImageInput {
        public File {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public String toString() {
            return path.toString();
        }
    }

    /** A {@code data:[<media type>][;base64],<data>} URL. */
    record DataUrl(String url) implements ImageInput {
        public DataUrl {
            if (!url.regionMatches(true, 0, "data:", 0, 5)) {
                throw new ImageLoadException("not a data: URL: " + shorten(url));
            }
        }

        @Override
        public String toString() {
            return shorten(url);
        }
    }

    static ImageInput file(Path path) {
        return new File(path);
    }

    static ImageInput bytes(byte[] encodedImage) {
        return new DataUrl("data:;base64," + Base64.getEncoder().encodeToString(encodedImage));
    }

    static ImageInput dataUrl(String url) {
        return new DataUrl(url);
    }

    /**
     * A {@code data:} URL, a {@code file:} URL or a path.
     *
     * @throws ImageLoadException for {@code http(s)} and other URL schemes
     */
    static ImageInput of(String source) {
        if (source.regionMatches(true, 0, "data:", 0, 5)) {
            return new DataUrl(source);
        }
        if (source.regionMatches(true, 0, "file:", 0, 5)) {
            try {
                return new File(Path.of(URI.create(source)));
            } catch (IllegalArgumentException e) {
                throw new ImageLoadException("malformed file: URL " + shorten(source) + ": " + e.getMessage(), e);
            }
        }
        int colon = source.indexOf("://");
        if (colon > 0) {
            throw new ImageLoadException("image URL " + shorten(source) + ": "
                    + source.substring(0, colon).toLowerCase(Locale.ROOT)
                    + " URLs are not fetched; pass the image as a data: URL or a local file");
        }
        return new File(Path.of(source));
    }

    /**
     * The image of a chat content part: OpenAI's {@code {"type":"image_url","image_url":{"url":...}}} (or
     * {@code "image_url": "<url>"}), or Hugging Face's {@code {"type":"image","url"|"path"|"image": ...}}.
     *
     * @param allowFiles whether the part may name a local file (false where the message comes from a remote client)
     * @throws ImageLoadException when the part carries no image, or a file where files are not allowed
     */
    static ImageInput fromContentPart(JsonNode part, boolean allowFiles) {
        String type = part.path("type").asText();
        JsonNode source;
        if (type.equals("image_url")) {
            JsonNode u = part.path("image_url");
            source = u.isObject() ? u.path("url") : u;
        } else if (type.equals("image")) {
            source = part.hasNonNull("url") ? part.get("url")
                    : part.hasNonNull("path") ? part.get("path") : part.path("image");
        } else {
            throw new IllegalArgumentException("not an image content part: " + shorten(part.toString()));
        }
        if (!source.isTextual() || source.textValue().isBlank()) {
            throw new ImageLoadException("image content part carries no image: expected image_url.url (OpenAI) or"
                    + " url/path (Hugging Face) holding a data: URL" + (allowFiles ? " or a file path" : "") + ": "
                    + shorten(part.toString()));
        }
        ImageInput input = of(source.textValue());
        if (input instanceof File f && !allowFiles) {
            throw new ImageLoadException("image " + shorten(source.textValue())
                    + ": local files are not accepted here; send the image as a data: URL");
        }
        return input;
    }

    /** The content part that {@link #fromContentPart} reads back as this input. */
    default ObjectNode toContentPart() {
        ObjectNode part = JsonNodeFactory.instance.objectNode();
        switch (this) {
            case File f -> part.put("type", "image").put("path", f.path().toString());
            case DataUrl d -> part.put("type", "image_url").putObject("image_url").put("url", d.url());
        }
        return part;
    }

    /** Decodes the image (the loader's size limits apply). */
    default RgbImage load(ImageLoader loader) {
        return switch (this) {
            case File f -> loader.load(f.path());
            case DataUrl d -> loader.loadDataUrl(d.url());
        };
    }

    private static String shorten(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
