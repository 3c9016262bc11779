import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', '**/*.mjs', '**/*.cjs', 'bin/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The core is pure: no task-lib, SDKs, file system, network or process access.
    files: ['tasks/CodeSynthesis/src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['azure-pipelines-task-lib', 'azure-pipelines-task-lib/*'],
              message: 'core/ is pure: reach task-lib through PipelineHost.',
            },
            {
              group: [
                'openai',
                'openai/*',
                '@azure/*',
                'azure-devops-node-api',
                'azure-devops-node-api/*',
                'undici',
              ],
              message: 'core/ is pure: SDKs live in adapters/.',
            },
            {
              group: [
                'node:fs',
                'fs',
                'node:fs/*',
                'fs/*',
                'node:net',
                'net',
                'node:http',
                'http',
                'node:https',
                'https',
                'node:child_process',
                'child_process',
                'node:os',
                'os',
              ],
              message: 'core/ is pure: I/O lives in adapters/.',
            },
            {
              group: ['../adapters/*', '../../adapters/*', '../run', '../compose'],
              message: 'core/ imports only core/.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'console', 'fetch', 'setTimeout'],
    },
  },
);
