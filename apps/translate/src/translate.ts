// The `translate` command: loads the checkpoint the demo wrote and translates letter names.
import { createInterface } from 'node:readline/promises';

import { useBackend, type BackendName } from '@ml/core';
import { Translator } from '@ml/seq2seq';

/** Options of {@link runTranslate}. */
export interface TranslateCommandOptions {
  /** The checkpoint written by the training demo. */
  checkpoint: string;
  /** Sentences of space-separated letter names; none: read lines from stdin. */
  sentences: string[];
  /** 1 = greedy; more = beam search of that width. */
  beam: number;
  backend: BackendName | 'auto';
}

/** Splits a typed sentence into tokens: `"ei  bi: si:"` → `['ei', 'bi:', 'si:']`. */
export function tokenize(line: string): string[] {
  return line
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
}

/**
 * Translates each sentence (or each stdin line) and prints `source → translation`. Unknown tokens
 * and empty sentences throw the library's DataError, which names the token and lists the known ones.
 */
export async function runTranslate(
  options: TranslateCommandOptions,
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<string[][]> {
  await useBackend(options.backend);
  const translator = await Translator.load(options.checkpoint);
  const one = async (line: string): Promise<string[]> => {
    const [out] = await translator.translate([tokenize(line)], { beamWidth: options.beam, unknown: 'error' });
    print(`${tokenize(line).join(' ')}  →  ${(out as string[]).join(' ')}`);
    return out as string[];
  };
  const results: string[][] = [];
  try {
    if (options.sentences.length > 0) {
      for (const s of options.sentences) results.push(await one(s));
    } else {
      const interactive = process.stdin.isTTY === true;
      const rl = createInterface({
        input: process.stdin,
        ...(interactive ? { output: process.stdout } : {}),
      });
      if (interactive)
        print(
          `type letter names (${translator.srcVocab.tokens.slice(4).join(' ')}), one sentence per line; Ctrl-D ends`,
        );
      if (interactive) rl.setPrompt('> ');
      if (interactive) rl.prompt();
      for await (const line of rl) {
        if (line.trim() !== '') {
          try {
            results.push(await one(line));
          } catch (e) {
            if (!interactive) throw e;
            print(`error: ${(e as Error).message}`);
          }
        }
        if (interactive) rl.prompt();
      }
    }
  } finally {
    translator.dispose();
  }
  return results;
}
