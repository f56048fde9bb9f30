import { readFileSync } from 'node:fs';

/** The package's own name and version, read once from package.json. */
export const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  version: string;
  description: string;
};
