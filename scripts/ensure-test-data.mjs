#!/usr/bin/env node
// Checks that the system packages the test suite reads are installed, and says what to run when they
// are not. It installs nothing: `.ci/run` (as root) installs them with apt.
//
//   node scripts/ensure-test-data.mjs             check; exit 1 with instructions when something is missing
//   node scripts/ensure-test-data.mjs --missing   print the missing Debian packages, one a line (for .ci/run)
import { existsSync } from 'node:fs';

/** What the suite needs from the system: a Debian package, the file that shows it is there, and who uses it. */
export const REQUIREMENTS = [
  {
    debian: 'dataset-fashion-mnist',
    file: '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz',
    usedBy: 'the full Fashion-MNIST for @ml/data-loaders and the fashion-cnn demo',
  },
  {
    debian: 'chromium',
    // The playground's tests read CHROMIUM_PATH too, for a Chromium installed elsewhere.
    file: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    usedBy: "the playground's browser tests (playwright-core drives Debian's Chromium)",
  },
];

const missing = REQUIREMENTS.filter((r) => !existsSync(r.file));

if (process.argv.includes('--missing')) {
  for (const r of missing) console.log(r.debian);
  process.exit(0);
}

if (missing.length > 0) {
  const names = missing.map((r) => r.debian).join(' ');
  console.error('The test suite needs system packages that are not installed:');
  for (const r of missing) console.error(`  - ${r.debian} (${r.file} is missing): ${r.usedBy}`);
  console.error(`Install them with:  sudo apt-get update && sudo apt-get install -y ${names}`);
  console.error('or run .ci/run as root, which installs them and then runs the tests.');
  process.exit(1);
}
