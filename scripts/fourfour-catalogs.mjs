// Regenerates catalogs/fourfour/*.json, the offline schemas of the Four/Four streams, from the
// sandbox's `$metadata` through the same CSDL conversion `--discover` uses live, so the built-in
// schemas and live discovery agree. Run `npm run build` first, then `node scripts/fourfour-catalogs.mjs`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fourfour } from '../dist/providers/fourfour/provider.js';
import { createFourfourSandbox } from '../dist/sandbox/fourfour/index.js';
import { startSandbox } from '../dist/sandbox/server.js';
import { createLogger } from '../dist/util/log.js';

const directory = new URL('../catalogs/fourfour/', import.meta.url);
const sandbox = await startSandbox({ providers: (options) => [createFourfourSandbox(options)] });
try {
  const schemas = await fourfour.discoverSchemas({ base_url: sandbox.baseUrls.fourfour }, undefined, createLogger('warning'));
  mkdirSync(directory, { recursive: true });
  for (const stream of fourfour.streams) {
    const schema = schemas[stream.name];
    if (!schema) throw new Error(`$metadata does not describe ${stream.name}`);
    writeFileSync(new URL(`${stream.name.slice('fourfour_'.length)}.json`, directory), JSON.stringify(schema, null, 2) + '\n');
  }
  console.error(`wrote ${fourfour.streams.length} schemas to ${directory.pathname}`);
} finally {
  await sandbox.close();
}
