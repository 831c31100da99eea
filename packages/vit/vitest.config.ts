import { mlVitestConfig } from '@ml/vitest-config';

export default mlVitestConfig();
