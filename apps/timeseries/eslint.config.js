export { app as default } from '@ml/eslint-config';
