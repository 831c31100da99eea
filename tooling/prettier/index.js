/** Shared Prettier options for the @ml monorepo. */
export default { printWidth: 110, singleQuote: true, trailingComma: 'all', semi: true };
