// The conformance suite against type: process with a module block (hsu's host child over IPC).
import { defineConformance } from './conformance.js';

defineConformance('process');
