import { useBackend } from '@ml/core';
import { LETTERS, LETTER_NAMES, toyTranslation } from '@ml/data-loaders';
import { Translator } from '@ml/seq2seq';
await useBackend('wasm');
const tr = await Translator.load(process.argv[2]!);
const data = toyTranslation({ n: 1000, seqLen: 6, noise: 0.1, seed: Number(process.argv[3] ?? 0) });
data.dispose();
const test = data.srcTokens.slice(800);
const out = await tr.translate(test);
test.forEach((s, i) => {
  const clean = s.map((n) => LETTERS[LETTER_NAMES.indexOf(n)]);
  const got = out[i]!;
  if (clean.join(' ') !== got.join(' ')) console.log(s.join(' '), '|', clean.join(' '), '|', got.join(' '));
});
