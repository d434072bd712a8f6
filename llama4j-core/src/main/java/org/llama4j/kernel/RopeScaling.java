package org.llama4j.kernel;

/**
 * Llama 3 style RoPE frequency scaling ("rope_type": "llama3"), which Llama 4 keeps: frequencies whose wavelength
 * is shorter than {@code originalContextLength / highFreqFactor} are kept, those longer than
 * {@code originalContextLength / lowFreqFactor} are divided by {@code factor}, and the band between is blended
 * smoothly.
 */
public record RopeScaling(float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {

    /** Applies the rule to one unscaled frequency (radians per position), in float32 like the reference. */
    public float scale(float freq) {
        float lowFreqWavelength = originalContextLength / lowFreqFactor;
        float highFreqWavelength = originalContextLength / highFreqFactor;
        float wavelength = (float) (2 * Math.PI) / freq;
        if (wavelength < highFreqWavelength) {
            return freq;
        }
        if (wavelength > lowFreqWavelength) {
            return freq / factor;
        }
        float smooth = (originalContextLength / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * freq / factor + smooth * freq;
    }
}
