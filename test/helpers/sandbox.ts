import type { DateTime } from 'luxon';
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from '../../src/sandbox/server.js';
import type { SandboxOptions, SandboxProvider } from '../../src/sandbox/types.js';

/** One provider's simulated API on loopback, and the clock a test moves it with. */
export interface OneSandbox<P extends SandboxProvider> {
  server: RunningSandbox;
  provider: P;
  /** The provider's base URL, e.g. `http://127.0.0.1:PORT/gong`. */
  base: string;
  clock: { now: DateTime };
}

/** Starts a sandbox serving only the provider `create` makes, seeded and unlimited unless `options` say otherwise. */
export async function startOneSandbox<P extends SandboxProvider>(start: DateTime, create: (options: SandboxOptions) => P, options: Partial<StartSandboxOptions> = {}): Promise<OneSandbox<P>> {
  const clock = { now: start };
  let provider: P | undefined;
  const server = await startSandbox({ seed: 7, unlimited: true, now: () => clock.now, ...options, providers: (o) => [(provider = create(o))] });
  return { server, provider: provider!, base: server.baseUrls[provider!.configKey]!, clock };
}
