// The models the page offers. Kept apart from tasks.ts so that the page does not bundle the models.
import type { TaskName } from './protocol.js';

/** Every task the page offers, with the label shown to the user. */
export const TASKS: readonly { name: TaskName; label: string }[] = [
  { name: 'translator', label: 'Letter names → letters (Transformer, @ml/seq2seq)' },
  { name: 'vit', label: 'MNIST digits (Vision Transformer, @ml/vit)' },
  { name: 'forecaster', label: 'Mackey-Glass forecast (LSTM, @ml/lstm)' },
];
