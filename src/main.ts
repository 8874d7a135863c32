#!/usr/bin/env node
/** Entry point: runs the CLI. The only file that sets the process exit status. */
import { buildProgram } from './cli/program.js';

let exitCode = 0;
const program = buildProgram((code) => {
  exitCode = code;
});

program
  .parseAsync(process.argv)
  .then(() => {
    process.exitCode = exitCode;
  })
  .catch((error: unknown) => {
    process.stderr.write(`bmpwatch: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
