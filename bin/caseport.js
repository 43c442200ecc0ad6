#!/usr/bin/env node
// The caseport command: runs the compiled CLI (npm install builds it into dist/).
import('../dist/cli/main.js').then((m) => m.main(process.argv));
