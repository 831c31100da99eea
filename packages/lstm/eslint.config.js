export { library as default } from '@ml/eslint-config';
