import { CheckpointError, loadSafetensorsFile, saveSafetensorsFile } from '@ml/core';

import { Seq2SeqTransformer, type Seq2SeqTransformerConfig } from './seq2seq-transformer.js';
import { Vocab } from './vocab.js';

/** The `format` metadata value of a checkpoint written by {@link saveSeq2SeqCheckpoint}. */
export const SEQ2SEQ_CHECKPOINT_FORMAT = '@ml/seq2seq/v1';

/** What a seq2seq checkpoint holds: the model (weights + config) and both vocabularies. */
export interface Seq2SeqCheckpoint {
  model: Seq2SeqTransformer;
  srcVocab: Vocab;
  tgtVocab: Vocab;
  /** Extra metadata strings saved with the checkpoint (the format keys removed). */
  metadata: Record<string, string>;
}

/** Options of {@link saveSeq2SeqCheckpoint}. */
export interface SaveSeq2SeqCheckpointOptions {
  /** Extra strings to store (e.g. metrics); the keys `format`, `config`, `src_vocab`, `tgt_vocab` are reserved. */
  metadata?: Record<string, string>;
}

const RESERVED = ['format', 'config', 'src_vocab', 'tgt_vocab'];

/**
 * Writes one safetensors file holding the model's weights (PyTorch names) and, in its metadata, the
 * model config and both vocabularies as JSON. Atomic (temp file + rename) via @ml/core. Node only.
 */
export async function saveSeq2SeqCheckpoint(
  path: string,
  checkpoint: Omit<Seq2SeqCheckpoint, 'metadata'>,
  options: SaveSeq2SeqCheckpointOptions = {},
): Promise<void> {
  const { model, srcVocab, tgtVocab } = checkpoint;
  checkVocabs(`saveSeq2SeqCheckpoint('${path}')`, model.config, srcVocab, tgtVocab);
  const extra = options.metadata ?? {};
  const clash = Object.keys(extra).find((k) => RESERVED.includes(k));
  if (clash !== undefined)
    throw new CheckpointError(
      `saveSeq2SeqCheckpoint: metadata key '${clash}' is reserved (${RESERVED.join(', ')})`,
    );
  await saveSafetensorsFile(path, model.stateDict(), {
    metadata: {
      ...extra,
      format: SEQ2SEQ_CHECKPOINT_FORMAT,
      config: JSON.stringify(model.config),
      src_vocab: JSON.stringify(srcVocab),
      tgt_vocab: JSON.stringify(tgtVocab),
    },
  });
}

function checkVocabs(
  where: string,
  config: Readonly<Seq2SeqTransformerConfig>,
  srcVocab: Vocab,
  tgtVocab: Vocab,
): void {
  if (srcVocab.size !== config.srcVocabSize || tgtVocab.size !== config.tgtVocabSize) {
    throw new CheckpointError(
      `${where}: the vocabularies do not match the model: source ${srcVocab.size} tokens vs srcVocabSize ${config.srcVocabSize}, target ${tgtVocab.size} tokens vs tgtVocabSize ${config.tgtVocabSize}`,
    );
  }
}

function parseJson(where: string, key: string, metadata: Record<string, string>): unknown {
  const text = metadata[key];
  if (text === undefined)
    throw new CheckpointError(
      `${where}: metadata has no '${key}' (not a ${SEQ2SEQ_CHECKPOINT_FORMAT} checkpoint?)`,
    );
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${where}: metadata '${key}' is not valid JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
}

/**
 * Reads a checkpoint written by {@link saveSeq2SeqCheckpoint}: rebuilds the model from its config,
 * loads the weights (strictly) and the vocabularies. A missing or corrupt file, a config or vocabulary
 * that cannot be read, or a vocabulary whose size does not match the weights is a `CheckpointError`.
 */
export async function loadSeq2SeqCheckpoint(path: string): Promise<Seq2SeqCheckpoint> {
  const where = `loadSeq2SeqCheckpoint('${path}')`;
  const { tensors, metadata } = await loadSafetensorsFile(path);
  let model: Seq2SeqTransformer | undefined;
  try {
    if (metadata.format !== SEQ2SEQ_CHECKPOINT_FORMAT) {
      throw new CheckpointError(
        `${where}: format must be '${SEQ2SEQ_CHECKPOINT_FORMAT}', got ${metadata.format === undefined ? 'none' : `'${metadata.format}'`}`,
      );
    }
    const config = parseJson(where, 'config', metadata) as Seq2SeqTransformerConfig;
    const srcVocab = wrap(where, 'src_vocab', () => Vocab.fromJSON(parseJson(where, 'src_vocab', metadata)));
    const tgtVocab = wrap(where, 'tgt_vocab', () => Vocab.fromJSON(parseJson(where, 'tgt_vocab', metadata)));
    const built = wrap(where, 'config', () => new Seq2SeqTransformer(config));
    model = built;
    checkVocabs(where, built.config, srcVocab, tgtVocab);
    wrap(where, 'weights', () => built.loadStateDict(tensors));
    const extra = Object.fromEntries(Object.entries(metadata).filter(([k]) => !RESERVED.includes(k)));
    return { model: built, srcVocab, tgtVocab, metadata: extra };
  } catch (e) {
    model?.dispose();
    throw e;
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

function wrap<T>(where: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CheckpointError && e.message.startsWith(where)) throw e;
    throw new CheckpointError(`${where}: ${what}: ${(e as Error).message}`, { cause: e });
  }
}
