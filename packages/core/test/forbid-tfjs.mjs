// Node loader: any import of an @tensorflow/* package fails, naming it. Used (with --import) by
// src/plain-entry.test.ts to prove that @ml/core/plain loads no tfjs.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@tensorflow/')) throw new Error('FORBIDDEN import of ' + specifier);
  return next(specifier, context);
}`)}`,
);
