import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DOCUMENTATION_URL } from '../../src/protocol/airbyte.js';
import { ROOT, tempDir } from '../helpers/binary.js';
import { airbyteProblems } from '../protocol/airbyte-messages.js';

/**
 * No Docker engine runs here, so the Dockerfile is read and held to Airbyte's image conventions
 * (https://docs.airbyte.com/understanding-airbyte/airbyte-protocol-docker), and its exact entrypoint command is run with the image's paths mapped onto
 * this checkout.
 */
interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const instructions: Instruction[] = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const globalArgs = new Map(
  instructions
    .slice(0, instructions.findIndex((i) => i.keyword === 'FROM'))
    .filter((i) => i.keyword === 'ARG')
    .map((i) => i.args.split('=') as [string, string]),
);
const stages: Stage[] = [];
for (const instruction of instructions) {
  if (instruction.keyword === 'FROM') {
    const [from = '', , name] = instruction.args.split(/\s+/);
    stages.push({ from: from.replace(/\$\{(\w+)\}/g, (_, arg: string) => globalArgs.get(arg) ?? ''), name, instructions: [] });
  } else {
    stages.at(-1)?.instructions.push(instruction);
  }
}
const final = stages.at(-1)!;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const keyValues = (stage: Stage, keyword: string) =>
  new Map(all(stage, keyword).map((args) => [args.slice(0, args.indexOf('=')), args.slice(args.indexOf('=') + 1).replace(/^"(.*)"$/, '$1')]));

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; files: string[]; bin: Record<string, string> };
const metadata = parse(readFileSync(join(ROOT, 'metadata.yaml'), 'utf8')) as { metadataSpecVersion: string; data: Record<string, any> };
const entrypoint = JSON.parse(all(final, 'ENTRYPOINT')[0]!) as string[];
const workdir = all(final, 'WORKDIR').at(-1)!;

/**
 * Where a path inside the image comes from in this checkout, following the final stage's COPYs. A
 * copy from the build stage maps through that stage's WORKDIR, where the checkout was copied and built.
 */
function sourceOf(imagePath: string): string | undefined {
  for (const copy of all(final, 'COPY')) {
    const from = copy.match(/--from=(\S+)/)?.[1];
    const stage = from === undefined ? undefined : stages.find((s) => s.name === from);
    const parts = copy.split(/\s+/).filter((p) => !p.startsWith('--'));
    const target = posix.resolve(workdir, parts.at(-1)!);
    for (const source of parts.slice(0, -1)) {
      const inCheckout = stage ? posix.relative(all(stage, 'WORKDIR').at(-1)!, source) : source;
      // Docker copies a directory's contents to the destination, and a file into it when it names a directory.
      const intoDirectory = !statSync(join(ROOT, inCheckout)).isDirectory() && (parts.length > 2 || parts.at(-1)!.endsWith('/'));
      const landed = intoDirectory ? posix.join(target, posix.basename(source)) : target;
      if (imagePath === landed || imagePath.startsWith(landed + '/')) return join(ROOT, inCheckout, posix.relative(landed, imagePath));
    }
  }
  return undefined;
}

describe('Dockerfile', () => {
  it('builds in stages on a slim image of an LTS Node line (an even major, 22 or later)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:\d+-slim$/);
    const major = Number(final.from.match(/^node:(\d+)/)![1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
  });

  it('compiles in the build stage and installs only production dependencies in the image', () => {
    const build = stages.find((s) => s.name === 'build')!;
    expect(all(build, 'RUN').some((run) => /tsc -p tsconfig\.build\.json/.test(run))).toBe(true);
    expect(all(final, 'RUN').some((run) => /npm ci --omit=dev/.test(run))).toBe(true);
    expect(all(final, 'COPY').some((copy) => copy.startsWith('--from=build') && /\/dist\b/.test(copy))).toBe(true);
  });

  it('ships everything the npm package ships', () => {
    for (const file of pkg.files) expect(sourceOf(posix.join(workdir, file)), file).toBe(join(ROOT, file));
  });

  it('sets AIRBYTE_ENTRYPOINT to the ENTRYPOINT, with absolute paths', () => {
    expect(entrypoint.every((part) => part.startsWith('/'))).toBe(true);
    expect(keyValues(final, 'ENV').get('AIRBYTE_ENTRYPOINT')).toBe(entrypoint.join(' '));
    expect(sourceOf(entrypoint[1]!)).toBe(join(ROOT, pkg.bin['tap-convo']!));
  });

  it('labels the image with the connector name and the package version, as metadata.yaml does', () => {
    const labels = keyValues(final, 'LABEL');
    expect(labels.get('io.airbyte.version')).toBe(pkg.version);
    expect(labels.get('io.airbyte.name')).toBe(metadata.data.dockerRepository);
  });

  it('runs as the non-root airbyte user, who owns /airbyte', () => {
    const users = all(final, 'USER');
    expect(users.at(-1)).toBe('airbyte');
    const setup = all(final, 'RUN').find((run) => /useradd\b.*\bairbyte\b/.test(run))!;
    expect(setup).toMatch(/chown (-R )?airbyte:airbyte \/airbyte\b/);
    const runsAfterUser = final.instructions.slice(final.instructions.findIndex((i) => i.keyword === 'USER'));
    expect(runsAfterUser.filter((i) => i.keyword === 'RUN')).toEqual([]);
    expect(workdir.startsWith('/airbyte/')).toBe(true);
  });

  it('keeps the build context small without leaving out anything it copies', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
    const copied = stages.flatMap((stage) => all(stage, 'COPY').filter((copy) => !copy.startsWith('--from')).flatMap((copy) => copy.split(/\s+/).slice(0, -1)));
    for (const source of copied) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
  });

  it('runs its exact entrypoint: spec answers from another working directory', () => {
    const [node, script, ...fixed] = entrypoint;
    expect(node).toBe('/usr/local/bin/node');
    const run = spawnSync(process.execPath, [sourceOf(script!)!, ...fixed, 'spec'], { cwd: tempDir(), encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((m) => m.type)).toEqual(['SPEC']);
    expect(airbyteProblems(lines[0])).toEqual([]);
    expect(relative(ROOT, sourceOf(script!)!)).toBe(pkg.bin['tap-convo']);
  });
});

describe('metadata.yaml', () => {
  it('describes a source image whose tag is the package version', () => {
    expect(metadata.metadataSpecVersion).toBe('1.0');
    expect(metadata.data).toMatchObject({ connectorType: 'source', dockerImageTag: pkg.version, license: pkg.license, documentationUrl: DOCUMENTATION_URL });
    expect(metadata.data.definitionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(metadata.data.name).toEqual(expect.any(String));
    expect(metadata.data.dockerRepository).toMatch(/^[a-z0-9-]+\/[a-z0-9-]+$/);
  });
});
