#!/usr/bin/env node
// Executable entry for the `hsu` bin; everything testable lives in main.ts.
import { main } from './main.js';

// Exit explicitly: a timer an inline module forgot to clear must not keep a stopped master alive.
process.exit(await main(process.argv.slice(2)));
