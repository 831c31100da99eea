// Test helpers for @ml/lstm: PyTorch parity against fixtures from tooling/fixtures/gen_lstm.py.
import { fixtureUrl, loadFixture } from '@ml/core/testing';
import type { Fixture } from '@ml/core/testing';

/** Loads packages/lstm/fixtures/<name>.safetensors. */
export const fixture = (name: string): Promise<Fixture> => loadFixture(fixtureUrl(name, import.meta.url));
