import type { Linter } from 'eslint';

export declare const library: Linter.Config[];
export declare const app: Linter.Config[];
export declare const scripts: Linter.Config[];
declare const config: Linter.Config[];
export default config;
