// Codecs: WAV (native, streaming) and ffmpeg pipes. Filled in by the codecs work.
export {};
