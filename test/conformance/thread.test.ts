// The conformance suite against type: module, isolation: thread (a worker_threads isolate).
import { defineConformance } from './conformance.js';

defineConformance('thread');
