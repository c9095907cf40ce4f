/** RNNoise compiled by Emscripten: the default export makes a module instance (given `wasmBinary`, it reads no file). */
declare module '@echogarden/rnnoise-wasm' {
  const RNNoise: (moduleArg: { wasmBinary?: Uint8Array }) => Promise<unknown>;
  export default RNNoise;
}
