// What the worker needs from a model it trains: one optimizer step at a time, a text interface for
// trying the model, checkpoints as bytes, and a deterministic forward pass for comparing backends.
import type { MetricInfo, ProgressPoint, TaskName, TaskView } from './protocol.js';

/** A model with its data, optimizer and schedule, trained one step at a time by the worker. */
export interface PlaygroundTask {
  readonly name: TaskName;
  /** Optimizer steps taken so far. */
  readonly step: number;
  /** The learning rate of the next step. */
  readonly lr: number;
  /** How the page labels the metric of each {@link ProgressPoint}. */
  readonly metric: MetricInfo;
  /** One line about the model: sizes and parameter count. */
  describe(): string;
  /** One optimizer step on the next batch; resolves with its loss and batch accuracy. */
  trainStep(): Promise<ProgressPoint>;
  /** Shows the model at work; `input` is what the user typed (tasks without text input ignore it). */
  view(input: string): Promise<TaskView>;
  /** The model as a safetensors file, and the name to download it under. */
  save(): Promise<{ bytes: Uint8Array; fileName: string }>;
  /** Replaces the model by the one in a safetensors file written by {@link PlaygroundTask.save}. */
  load(bytes: Uint8Array): void;
  /** A forward pass of the model in eval mode on fixed inputs (for comparing backends). */
  probe(): Promise<{ values: Float32Array; shape: number[] }>;
  /** Frees every tensor the task holds. */
  dispose(): void;
}
