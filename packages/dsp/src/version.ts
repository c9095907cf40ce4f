import pkg from '../../../package.json' with { type: 'json' };

/** The one version string: package.json's, shown by the CLI (`david --version`) and the API (`/health`). */
export const VERSION: string = pkg.version;
