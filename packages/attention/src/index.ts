export { broadcastMask, causalMask, combineMasks, paddingMask } from './masks.js';
export type { AttentionMask } from './masks.js';
export {
  DEFAULT_SCALED_DOT_PRODUCT_ATTENTION_OPTIONS,
  scaledDotProductAttention,
} from './scaled-dot-product-attention.js';
export type { AttentionResult, ScaledDotProductAttentionOptions } from './scaled-dot-product-attention.js';
export { DEFAULT_MULTI_HEAD_ATTENTION_OPTIONS, MultiHeadAttention } from './multi-head-attention.js';
export type { MultiHeadAttentionForwardOptions, MultiHeadAttentionOptions } from './multi-head-attention.js';
export {
  DEFAULT_SINUSOIDAL_POSITIONAL_ENCODING_OPTIONS,
  SinusoidalPositionalEncoding,
  sinusoidalEncoding,
} from './sinusoidal-positional-encoding.js';
export type {
  PositionalForwardOptions,
  SinusoidalPositionalEncodingOptions,
} from './sinusoidal-positional-encoding.js';
export {
  DEFAULT_LEARNED_POSITIONAL_EMBEDDING_OPTIONS,
  LearnedPositionalEmbedding,
} from './learned-positional-embedding.js';
export type { LearnedPositionalEmbeddingOptions } from './learned-positional-embedding.js';
export { sinCos2dPositionalEncoding } from './sincos-2d-positional-encoding.js';
export type { SinCos2dOptions } from './sincos-2d-positional-encoding.js';
export { DEFAULT_TRANSFORMER_LAYER_OPTIONS, TransformerEncoderLayer } from './transformer-encoder-layer.js';
export type {
  EncoderLayerResult,
  FeedForwardActivation,
  TransformerEncoderLayerForwardOptions,
  TransformerEncoderLayerOptions,
} from './transformer-encoder-layer.js';
export { TransformerDecoderLayer } from './transformer-decoder-layer.js';
export type {
  DecoderLayerResult,
  TransformerDecoderLayerForwardOptions,
  TransformerDecoderLayerOptions,
} from './transformer-decoder-layer.js';
export { DEFAULT_TRANSFORMER_ENCODER_OPTIONS, TransformerEncoder } from './transformer-encoder.js';
export type {
  EncoderResult,
  TransformerEncoderForwardOptions,
  TransformerEncoderOptions,
} from './transformer-encoder.js';
export { DEFAULT_TRANSFORMER_DECODER_OPTIONS, TransformerDecoder } from './transformer-decoder.js';
export type {
  DecoderResult,
  TransformerDecoderForwardOptions,
  TransformerDecoderOptions,
} from './transformer-decoder.js';
