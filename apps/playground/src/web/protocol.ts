// The messages between the page (main thread) and the training worker. One worker holds one
// backend and one task; the page replaces the worker to change either.

/** Backends the page offers; 'auto' lets @ml/core choose. */
export type BackendChoice = 'auto' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** The models the page can train. */
export type TaskName = 'translator' | 'vit' | 'forecaster';

/** What the page asks the worker. */
export type Request =
  | {
      type: 'init';
      task: TaskName;
      backend: BackendChoice;
      /** Accept a software (fallback) WebGPU adapter such as SwiftShader; 'auto' refuses it otherwise. */
      allowFallbackAdapter: boolean;
      seed: number;
      /** Learning-rate warmup steps of the translator's schedule (the forecaster has none). */
      warmup: number;
    }
  /** Train until `stop` (or until `maxSteps` more steps when given). */
  | { type: 'train'; maxSteps?: number }
  | { type: 'stop' }
  /** Show the model at work: translate `input`, or forecast the held-out range. */
  | { type: 'view'; input: string }
  | { type: 'save' }
  | { type: 'load'; bytes: Uint8Array }
  /** A forward pass of a freshly built model on fixed inputs, for comparing backends. */
  | { type: 'probe' };

/** One point of the training curves. */
export interface ProgressPoint {
  step: number;
  loss: number;
  /** The task's quality measure on this batch (token accuracy for the translator, R² for the forecaster). */
  metric: number;
}

/** What the worker shows of a model besides its curves. */
export type TaskView =
  /** The translator's answer to the letter names the user typed. */
  | { kind: 'text'; input: string; output: string }
  /** One-step-ahead forecasts over the held-out end of the series, against the truth. */
  | { kind: 'forecast'; index: number[]; truth: number[]; predicted: number[]; rmse: number }
  /** A held-out digit (784 grey bytes), the prediction, and the attention rollout of its patches (grid × grid). */
  | {
      kind: 'digit';
      pixels: number[];
      label: number;
      predicted: number;
      probability: number;
      attention: number[];
      grid: number;
    };

/** How the page labels and scales a task's metric. */
export interface MetricInfo {
  /** e.g. 'token accuracy (training batch)'. */
  label: string;
  /** Fixed y-range of its chart, if any. */
  range?: [number, number];
}

/** What the worker answers. */
export type Reply =
  | {
      type: 'ready';
      backend: string;
      /** How the backend was chosen: what 'auto' tried and why it skipped each. */
      report: string[];
      task: TaskName;
      /** A one-line description of the model (size, parameters). */
      model: string;
      metric: MetricInfo;
      step: number;
    }
  | { type: 'progress'; points: ProgressPoint[]; stepsPerSecond: number; lr: number }
  | { type: 'stopped'; step: number }
  | { type: 'view'; view: TaskView }
  | { type: 'saved'; bytes: Uint8Array; fileName: string }
  | { type: 'loaded'; step: number; model: string }
  | { type: 'probe'; backend: string; values: Float32Array; shape: number[] }
  | { type: 'error'; during: Request['type']; name: string; message: string };
