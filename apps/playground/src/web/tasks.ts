// The models the playground can train, by name.
import { ForecasterTask } from './forecaster-task.js';
import type { TaskName } from './protocol.js';
import type { PlaygroundTask } from './task.js';
import { TranslatorTask } from './translator-task.js';
import { VitTask, fetchDigits } from './vit-task.js';

/** Settings the page lets the user change. */
export interface TaskSettings {
  seed: number;
  /** The translator's learning-rate warmup (steps). */
  warmup?: number;
}

/** Builds task `name` with its defaults, changed by `settings` (the ViT first fetches its digits). */
export async function createTask(name: TaskName, settings: TaskSettings): Promise<PlaygroundTask> {
  const { seed, warmup } = settings;
  switch (name) {
    case 'translator':
      return new TranslatorTask(warmup === undefined ? { seed } : { seed, warmup });
    case 'vit':
      return new VitTask(await fetchDigits(), { seed });
    case 'forecaster':
      return new ForecasterTask({ seed });
  }
}
