// Copies the dashboard's files (plain HTML, JS and CSS: nothing to compile) next to the compiled
// dashboard code, so the package ships them built and `hsu run` serves them from dist.
import { cpSync } from 'node:fs';

cpSync('src/dashboard/assets', 'dist/src/dashboard/assets', { recursive: true });
