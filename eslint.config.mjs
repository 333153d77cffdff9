// ESLint with typescript-eslint, as cdk8s-team and aws-cdk projects lint:
// the recommended rules, and a line length a reader can hold. shared/STYLE.md
// remains the style guide; this file only enforces what a machine can check.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['build/**', 'dist/**', 'node_modules/**', 'imports/**', 'coverage/**', '**/*.d.ts',
      'test/bindings/**/out/**', 'test/**/node_modules/**', '.jsii', 'API.md'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    rules: {
      'max-len': ['error', {
        code: 160,
        ignoreUrls: true,
        // an error message or a fixture line is kept whole so that it can be found with grep
        ignoreStrings: true,
        ignoreTemplateLiterals: true,
        ignoreRegExpLiterals: true,
      }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      // jsii: a construct's Props interface may extend its Options and add nothing, so that each has a name in every language
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
