import { createClariCopilotSandbox } from './clari-copilot/index.js';
import { createFourfourSandbox } from './fourfour/index.js';
import { createGongSandbox } from './gong/index.js';
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from './server.js';
import type { SandboxOptions, SandboxProvider } from './types.js';

/** Every simulated API, in the order the tap syncs them. */
export function allSandboxProviders(options: SandboxOptions): SandboxProvider[] {
  return [createGongSandbox(options), createClariCopilotSandbox(options), createFourfourSandbox(options)];
}

export function startAllSandboxes(options: Omit<StartSandboxOptions, 'providers'>): Promise<RunningSandbox> {
  return startSandbox({ ...options, providers: allSandboxProviders });
}
