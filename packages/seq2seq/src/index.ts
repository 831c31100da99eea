export { BOS_ID, DEFAULT_VOCAB_OPTIONS, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID, Vocab } from './vocab.js';
export type {
  DecodeOptions,
  EncodeOptions,
  UnknownTokenPolicy,
  VocabBuildOptions,
  VocabJSON,
} from './vocab.js';
export { DEFAULT_COLLATE_OPTIONS, collatePairs, padSequences } from './batch.js';
export type { CollateOptions, PadOptions, Seq2SeqBatch, Seq2SeqPair } from './batch.js';
export { DEFAULT_SEARCH_OPTIONS } from './step-decoder.js';
export type { SearchOptions, SearchResult, StepDecoder } from './step-decoder.js';
export { greedySearch } from './greedy-search.js';
export { DEFAULT_BEAM_SEARCH_OPTIONS, beamSearch } from './beam-search.js';
export type { BeamSearchOptions } from './beam-search.js';
export {
  DEFAULT_BAYES_ACCURACY_OPTIONS,
  bayesTokenAccuracy,
  sequenceAccuracy,
  tokenAccuracy,
} from './accuracy.js';
export type { AccuracyCounts, BayesAccuracyOptions } from './accuracy.js';
export { cropPair } from './crop-pair.js';
export { encodePairs } from './encode-pairs.js';
export type { EncodePairsOptions, EncodedPairs, TokenPair } from './encode-pairs.js';
export {
  DEFAULT_SEQ2SEQ_TRANSFORMER_OPTIONS,
  EncoderDecoder,
  SEQ2SEQ_CONFIGS,
  Seq2SeqStepDecoder,
  Seq2SeqTransformer,
} from './seq2seq-transformer.js';
export type {
  Seq2SeqConfigName,
  Seq2SeqTransformerConfig,
  Seq2SeqTransformerOptions,
} from './seq2seq-transformer.js';
export {
  DEFAULT_TEACHER_FORCED_LOSS_OPTIONS,
  teacherForcedLoss,
  teacherForcedStep,
} from './teacher-forcing.js';
export type { TeacherForcedLossOptions, TeacherForcedStepOutput } from './teacher-forcing.js';
export { DEFAULT_TRANSLATE_OPTIONS, translate } from './translate.js';
export type { TranslateOptions } from './translate.js';
export { contentTokenAccuracy, evaluateTranslation } from './evaluate.js';
export type { TranslationEvaluation } from './evaluate.js';
export { SEQ2SEQ_CHECKPOINT_FORMAT, loadSeq2SeqCheckpoint, saveSeq2SeqCheckpoint } from './checkpoint.js';
export type { SaveSeq2SeqCheckpointOptions, Seq2SeqCheckpoint } from './checkpoint.js';
export { DEFAULT_TRANSLATOR_OPTIONS, Translator } from './translator.js';
export type { TranslatorOptions } from './translator.js';
