// Analysis: loudness, true peak, spectral features, waveform, spectrogram. Filled in by the analysis work.
export {};
