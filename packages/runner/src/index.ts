export { Runner } from './runner.js';
export { DEFAULT_RUNNER_OPTIONS } from './runner-types.js';
export type {
  FitOptions,
  FitResult,
  Loader,
  LossFn,
  ResumeOptions,
  RunnerOptions,
  SplitBatch,
  StepContext,
  StepFn,
  StepOutput,
  StepResult,
  TensorData,
} from './runner-types.js';
export { defaultSplitBatch } from './split-batch.js';
export type { RunnerCheckpointState } from './runner-checkpoint.js';
export type {
  Callback,
  CallbackState,
  CheckpointRequest,
  FitContext,
  GradientInfo,
  StepLogs,
} from './callback.js';
export type { Metric } from './metric.js';
export { Accuracy, DEFAULT_ACCURACY_OPTIONS } from './accuracy.js';
export type { AccuracyOptions } from './accuracy.js';
export { DEFAULT_TOP_K_ACCURACY_OPTIONS, TopKAccuracy } from './top-k-accuracy.js';
export type { TopKAccuracyOptions } from './top-k-accuracy.js';
export { MeanSquaredError, RootMeanSquaredError } from './mean-squared-error.js';
export type { SquaredErrorOptions } from './mean-squared-error.js';
export { MeanAbsoluteError } from './mean-absolute-error.js';
export type { MeanAbsoluteErrorOptions } from './mean-absolute-error.js';
export { R2Score } from './r2-score.js';
export type { R2ScoreOptions } from './r2-score.js';
export { cloneHistory, emptyHistory, historyToJsonl, logsToCsv, parseHistoryJsonl } from './history.js';
export type { History, HistoryKind, Logs } from './history.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  MANIFEST_FILE,
  hasCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  readCheckpoint,
  writeCheckpoint,
} from './checkpoint-dir.js';
export type {
  CheckpointContent,
  CheckpointEntry,
  CheckpointWhich,
  WriteCheckpointOptions,
} from './checkpoint-dir.js';
export { DEFAULT_EARLY_STOPPING_OPTIONS, EarlyStopping } from './early-stopping.js';
export type { EarlyStoppingOptions } from './early-stopping.js';
export { DEFAULT_MODEL_CHECKPOINT_OPTIONS, ModelCheckpoint } from './model-checkpoint.js';
export type { ModelCheckpointOptions } from './model-checkpoint.js';
export { DEFAULT_LR_SCHEDULER_OPTIONS, LrScheduler } from './lr-scheduler.js';
export type { LrSchedulerOptions } from './lr-scheduler.js';
export { GradientClipping } from './gradient-clipping.js';
export type { GradientClippingOptions } from './gradient-clipping.js';
export { TerminateOnNaN } from './terminate-on-nan.js';
export { DEFAULT_HISTORY_WRITER_OPTIONS, HistoryWriter } from './history-writer.js';
export type { HistoryWriterOptions } from './history-writer.js';
export { ProgressBar, formatLogs } from './progress-bar.js';
export type { ProgressBarOptions, ProgressStream } from './progress-bar.js';
export { DEFAULT_PLOT_HISTORY_OPTIONS, historyMetrics, historySeries, plotHistory } from './plot-history.js';
export type { CurveSeries, PlotHistoryOptions } from './plot-history.js';
export { CurvePlotter } from './curve-plotter.js';
export type { CurvePlotterOptions } from './curve-plotter.js';
export type { MonitorMode } from './internal/monitor.js';
export {
  BatchNormRecalibration,
  DEFAULT_BATCH_NORM_RECALIBRATION_OPTIONS,
} from './batch-norm-recalibration.js';
export type { BatchNormRecalibrationOptions } from './batch-norm-recalibration.js';
