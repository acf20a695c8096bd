#!/usr/bin/env node
// Executable entry for the `hsu` bin; everything testable lives in main.ts.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
