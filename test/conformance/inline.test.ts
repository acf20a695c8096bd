// The conformance suite against type: module, isolation: inline (the master's event loop).
import { defineConformance } from './conformance.js';

defineConformance('inline');
