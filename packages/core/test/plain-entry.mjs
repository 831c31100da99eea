// Imports the entry named on the command line (`@ml/core/plain` or `@ml/core`), uses the plain helpers and
// prints one JSON line. Spawned by src/plain-entry.test.ts with test/forbid-tfjs.mjs loaded.
const entry = process.argv[2];
const core = await import(entry);
const rng = new core.Rng(7);
const draws = rng.normalArray(3);
let named = '';
try {
  core.checkPositiveInt('svm', 'C', 0);
} catch (e) {
  named = `${e.name}: ${e.message}`;
}
console.log(JSON.stringify({ entry, draws: Array.from(draws), named, exports: Object.keys(core).sort() }));
