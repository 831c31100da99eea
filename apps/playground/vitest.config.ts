import { mlVitestConfig } from '@ml/vitest-config';

// One file at a time: the e2e file runs a browser that needs both cores.
export default mlVitestConfig({ fileParallelism: false });
