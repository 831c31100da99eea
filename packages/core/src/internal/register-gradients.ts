// tfjs-core's CommonJS bundle (what plain Node loads for both `require` and `import`) registers no
// gradients, and its ESM `register_all_gradients` cannot be imported by plain Node (extensionless
// imports). tfjs-layers ships tfjs' own gradient definitions in both of its builds and registers them
// into the global registry on load, so loading it here makes autodiff work for every consumer.
import '@tensorflow/tfjs-layers';

import { installGradientFixes } from './gradient-fixes.js';
import { registerChainedOps } from './register-chained-ops.js';

installGradientFixes();
registerChainedOps();
