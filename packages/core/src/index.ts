export {
  BACKEND_PRIORITY,
  BROWSER_BACKEND_PRIORITY,
  activeBackend,
  backendInfo,
  backendPriority,
  useBackend,
} from './backend.js';
export type {
  AdapterInfo,
  BackendInfo,
  BackendName,
  SkippedBackend,
  UseBackendOptions,
  WasmPaths,
} from './backend.js';
export {
  BackendError,
  CheckpointError,
  ConfigError,
  DataError,
  MlError,
  ShapeError,
  formatShape,
} from './errors.js';
export { Rng, defaultRng, manualSeed, resolveRng } from './rng.js';
export type { RngState } from './rng.js';
export { Module } from './module.js';
export type {
  Layer,
  LayerModule,
  LoadStateDictOptions,
  LoadStateDictResult,
  RegisterBufferOptions,
  StateDict,
} from './module.js';
export { calculateGain, fanInAndOut, init } from './init.js';
export type { KaimingOptions, Nonlinearity } from './init.js';
export { DEFAULT_LINEAR_OPTIONS, Linear, checkLastDim, linear } from './linear.js';
export type { LinearOptions } from './linear.js';
export { DEFAULT_DROPOUT_OPTIONS, Dropout, dropout } from './dropout.js';
export type { DropoutOptions } from './dropout.js';
export { DEFAULT_LAYER_NORM_OPTIONS, LayerNorm } from './layer-norm.js';
export type { LayerNormOptions } from './layer-norm.js';
export { GELU, LeakyReLU, ReLU, Sigmoid, Tanh, gelu } from './activations.js';
export type { GeluApproximation, GeluOptions, LeakyReluOptions } from './activations.js';
export { ModuleList, Sequential } from './sequential.js';
export { sumToShape, transposeLast2 } from './internal/gradient-fixes.js';
export {
  CHECKSUM_METADATA_KEY,
  decodeSafetensors,
  encodeRawSafetensors,
  encodeSafetensors,
  rawToTensors,
  tensorsToRaw,
} from './safetensors.js';
export type {
  DecodeOptions,
  DecodedSafetensors,
  EncodeOptions,
  RawTensor,
  SafetensorsDtype,
} from './safetensors.js';
export { Optimizer, checkLearningRate } from './optimizer.js';
export type {
  MinimizeOptions,
  OptimizerOptions,
  OptimizerParams,
  OptimizerState,
  OptimizerStateDict,
} from './optimizer.js';
export { DEFAULT_SGD_OPTIONS, SGD } from './sgd.js';
export type { SgdOptions } from './sgd.js';
export { Adam, DEFAULT_ADAM_OPTIONS } from './adam.js';
export type { AdamOptions } from './adam.js';
export { AdamW, DEFAULT_ADAMW_OPTIONS } from './adamw.js';
export { clipGradNorm } from './clip-grad-norm.js';
export { LSTM_SEQUENCE_BACKENDS, lstmSequence, lstmSequenceSupported } from './lstm-sequence.js';
export type { LstmSequenceResult } from './lstm-sequence.js';
export type { ClipGradNormResult } from './clip-grad-norm.js';
export {
  CosineWithWarmup,
  DEFAULT_COSINE_WITH_WARMUP_OPTIONS,
  DEFAULT_MULTI_STEP_LR_OPTIONS,
  DEFAULT_NOAM_SCHEDULE_OPTIONS,
  DEFAULT_STEP_LR_OPTIONS,
  MultiStepLR,
  NoamSchedule,
  StepLR,
} from './lr-schedules.js';
export type {
  CosineWithWarmupOptions,
  LrSchedule,
  MultiStepLROptions,
  NoamScheduleOptions,
  StepLROptions,
} from './lr-schedules.js';
export { DEFAULT_REDUCE_LR_ON_PLATEAU_OPTIONS, ReduceLROnPlateau } from './reduce-lr-on-plateau.js';
export type { ReduceLROnPlateauOptions, ReduceLROnPlateauState } from './reduce-lr-on-plateau.js';
export { loadModule, loadSafetensorsFile, saveModule, saveSafetensorsFile } from './checkpoint-file.js';
export type { LoadModuleOptions, LoadedSafetensors, SaveSafetensorsFileOptions } from './checkpoint-file.js';
export { clipGradNormOnDevice } from './clip-grad-norm.js';
export { noGrad } from './no-grad.js';
export { toNCHW, toNHWC } from './image-layout.js';
export { checkIndexValues } from './index-checks.js';
export type { IndexCheckOptions, PlainIndices } from './index-checks.js';
export { DEFAULT_EMBEDDING_OPTIONS, Embedding } from './embedding.js';
export type { EmbeddingIds, EmbeddingOptions } from './embedding.js';
export { Conv2d, DEFAULT_CONV2D_OPTIONS } from './conv2d.js';
export type { Conv2dOptions, Conv2dPadding, Size2d } from './conv2d.js';
export { BatchNorm, BatchNorm1d, BatchNorm2d, DEFAULT_BATCH_NORM_OPTIONS } from './batch-norm.js';
export type { BatchNormOptions } from './batch-norm.js';
export { AvgPool2d, DEFAULT_POOL2D_OPTIONS, MaxPool2d, Pool2d } from './pooling.js';
export type { AvgPool2dOptions, Pool2dOptions } from './pooling.js';
export { DEFAULT_FLATTEN_OPTIONS, Flatten } from './flatten.js';
export type { FlattenOptions } from './flatten.js';
export type { ReducedLoss, Reduction } from './reduction.js';
export { DEFAULT_CROSS_ENTROPY_OPTIONS, checkLabels, crossEntropy } from './cross-entropy.js';
export type { CrossEntropyOptions } from './cross-entropy.js';
export { DEFAULT_REGRESSION_LOSS_OPTIONS, huberLoss, l1Loss, mseLoss } from './regression-losses.js';
export type { HuberLossOptions, RegressionLossOptions } from './regression-losses.js';
export {
  DEFAULT_BINARY_CROSS_ENTROPY_OPTIONS,
  binaryCrossEntropyWithLogits,
} from './binary-cross-entropy.js';
export type { BinaryCrossEntropyOptions } from './binary-cross-entropy.js';
export {
  checkBoolean,
  checkNonEmptyString,
  checkNonNegative,
  checkNonNegativeInt,
  checkPositive,
  checkPositiveInt,
  checkProbability,
  checkRange,
} from './checks.js';
export { collectTensors, describe, disposeAll, isPlainObject, isTensor, sameShape } from './tensor-utils.js';
export { fsyncDir, writeFileAtomic } from './atomic-write.js';
