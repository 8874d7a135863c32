// ESLint flat config: typescript-eslint's recommended rules, plus the import boundaries that keep the
// wire, BGP and BMP layers pure (no I/O, no logging, no clock): see STYLE conventions in README.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pureLayers = ['src/wire/**', 'src/bmp/**', 'src/bgp/**', 'src/model/**', 'src/capture/**', 'src/encode/**', 'src/rules/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'dashboards/**/*.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: pureLayers,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:fs', 'node:net', 'node:http', 'node:child_process', 'pino', 'fs', 'net', 'http'].map((name) => ({
            name,
            message: 'decoders are pure: no I/O or logging here (see README, "Design").',
          })),
        },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'pure layers never read the clock' }],
      'no-restricted-syntax': ['error', { selector: "ThrowStatement", message: 'decoders return DecodeError values; they never throw' }],
    },
  },
  {
    // The rules are pure functions of events, state and an injected clock; only their consumer has side effects.
    files: ['src/rules/consumer.ts'],
    rules: { 'no-restricted-imports': 'off', 'no-restricted-properties': 'off', 'no-restricted-syntax': 'off' },
  },
  {
    // Encoders build test and benchmark input from trusted arguments; a bad argument is a programming error.
    files: ['src/encode/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
