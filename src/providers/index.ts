import type { ProviderDefinition } from '../core/definitions.js';
import { clariCopilot } from './clari-copilot/provider.js';
import { fourfour } from './fourfour/provider.js';
import { gong } from './gong/provider.js';

/** Every provider tap-convo knows, in the order they sync. */
export const PROVIDERS: readonly ProviderDefinition[] = [gong as ProviderDefinition, clariCopilot as ProviderDefinition, fourfour as ProviderDefinition];
