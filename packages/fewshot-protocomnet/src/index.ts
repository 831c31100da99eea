export { WordNet, wordnetDbDir } from './wordnet.js';
export type { WordNetSynset } from './wordnet.js';
export { loadWordVectors, winkEmbeddingsPath, wordVectorsFromRecord } from './word-vectors.js';
export type { LoadWordVectorsOptions, WordVectors } from './word-vectors.js';
export {
  buildKnowledgeGraph,
  classNodeId,
  describeClassGraph,
  knowledgeGraphWords,
  lemmaVector,
  lemmaWords,
  loadKnowledgeGraph,
} from './knowledge-graph.js';
export type {
  ClassSpec,
  KnowledgeGraph,
  KnowledgeGraphOptions,
  KnowledgeNode,
  LoadKnowledgeGraphOptions,
} from './knowledge-graph.js';
export { Conv4, DEFAULT_CONV4_OPTIONS } from './conv4.js';
export type { Conv4Options } from './conv4.js';
export {
  DEFAULT_PROTONET_OPTIONS,
  classPrototypes,
  cosineSimilarity,
  negativeSquaredDistances,
  protoNetLogits,
} from './protonet-head.js';
export type { PrototypeMetric, ProtoNetOptions } from './protonet-head.js';
export { DEFAULT_FUSION_HEAD_OPTIONS, FusionHead, softAssignment } from './fusion-head.js';
export type { DiagonalGaussians, FusionHeadOptions, FusionInput, FusionMode } from './fusion-head.js';
export { DEFAULT_PROTOCOMNET_OPTIONS, ProtoComNet } from './protocomnet.js';
export type { ProtoComNetOptions } from './protocomnet.js';
export { collectFeatureStatistics } from './feature-statistics.js';
export type { FeatureStatistics } from './feature-statistics.js';
export { protoComNetStep } from './protocomnet-training.js';
export type { ProtoComNetStep, ProtoComNetStepOutput } from './protocomnet-training.js';
export { meanWithCi95 } from './confidence.js';
