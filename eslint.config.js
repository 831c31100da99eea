export { scripts as default } from '@ml/eslint-config';
