#!/usr/bin/env node
// The `async-task-pipeline` command: the compiled CLI lives in dist (run `npm run build` first).
import '../dist/lib/cli/main.js';
