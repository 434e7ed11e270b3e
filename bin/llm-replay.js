#!/usr/bin/env node
import { main } from '../dist/cli/program.js';

main().catch((error) => {
  process.stderr.write(`llm-replay: ${error?.stack ?? error}\n`);
  process.exit(1);
});
