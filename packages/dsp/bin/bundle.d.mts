/** Types of bin/bundle.mjs (the `david` command's bundle, kept current with the sources). */
export declare const BUNDLE: string;
export declare function sourcesKey(): string;
export declare function bundleIsCurrent(key?: string): boolean;
export declare function buildBundle(key?: string): Promise<string>;
