export * from './stack.ts';
export * from './lambda-runtime.ts';
export * from './http-gateway.ts';
