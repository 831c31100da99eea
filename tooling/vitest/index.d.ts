import type { UserConfig } from 'vitest/config';

export declare const SOURCE_CONDITION: '@ml/source';
export declare function mlVitestConfig(test?: UserConfig['test']): UserConfig;
