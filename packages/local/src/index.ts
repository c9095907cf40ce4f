export * from './stack.ts';
export * from './lambda-runtime.ts';
export * from './http-gateway.ts';
export * from './emulators.ts';
export * from './reconcile.ts';
export * from './sandbox.ts';
export * from './moto.ts';
