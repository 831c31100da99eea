export { DEFAULT_DROP_PATH_OPTIONS, DropPath } from './drop-path.js';
export type { DropPathOptions } from './drop-path.js';
export { DEFAULT_PATCH_EMBEDDING_OPTIONS, PatchEmbedding } from './patch-embedding.js';
export type { PatchEmbeddingMethod, PatchEmbeddingOptions } from './patch-embedding.js';
export { HybridStem } from './hybrid-stem.js';
export type { HybridStemOptions } from './hybrid-stem.js';
export { VitBlock, VitMlp } from './vit-block.js';
export type { VitBlockOptions, VitBlockResult } from './vit-block.js';
export {
  DEFAULT_VIT_OPTIONS,
  VisionTransformer,
  dropPathRates,
  mlpDim,
  resolveVitConfig,
} from './vision-transformer.js';
export type {
  VisionTransformerOptions,
  VitConfig,
  VitForwardOptions,
  VitPool,
  VitResult,
} from './vision-transformer.js';
export { VIT_CONFIGS, countVitParameters, createVit, vitConfig } from './configs.js';
export type { VitConfigName, VitPreset } from './configs.js';
export {
  huggingFaceToTimm,
  loadTimmCheckpoint,
  loadTimmWeights,
  timmName,
  timmStateDict,
} from './timm-weights.js';
export type { LoadTimmWeightsOptions, LoadTimmWeightsResult } from './timm-weights.js';
export { DEFAULT_INTERPOLATE2D_OPTIONS, interpolate2d, interpolationMatrix } from './interpolate.js';
export type { Interpolate2dOptions, InterpolationMode } from './interpolate.js';
export {
  DEFAULT_RESIZE_POSITION_EMBEDDING_OPTIONS,
  resizePositionEmbedding,
} from './resize-position-embedding.js';
export type { ResizePositionEmbeddingOptions } from './resize-position-embedding.js';
export { DEFAULT_ATTENTION_ROLLOUT_OPTIONS, attentionRollout, clsAttentionMap } from './attention-rollout.js';
export type { AttentionRolloutOptions, HeadFusion } from './attention-rollout.js';
