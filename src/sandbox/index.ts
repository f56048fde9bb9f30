import { createClariCopilotSandbox } from './clari-copilot/index.js';
import { createFourfourSandbox, FOURFOUR_SCOPES } from './fourfour/index.js';
import { createGongSandbox, GONG_SCOPES } from './gong/index.js';
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from './server.js';
import type { SandboxOptions, SandboxProvider } from './types.js';

/** Every scope the simulated APIs know (Clari Copilot has none): what their credentials hold by default. */
export const SANDBOX_SCOPES: readonly string[] = [...GONG_SCOPES, ...FOURFOUR_SCOPES];

/** Every simulated API, in the order the tap syncs them. */
export function allSandboxProviders(options: SandboxOptions): SandboxProvider[] {
  return [createGongSandbox(options), createClariCopilotSandbox(options), createFourfourSandbox(options)];
}

export function startAllSandboxes(options: Omit<StartSandboxOptions, 'providers'>): Promise<RunningSandbox> {
  return startSandbox({ ...options, providers: allSandboxProviders });
}
