export * from './avl-tree.ts';
export * from './lru-cache.ts';
export * from './errors.ts';
export * from './file-index.ts';
export * from './snapshot.ts';
export * from './journal.ts';
export * from './writer.ts';
