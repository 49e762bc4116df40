#!/usr/bin/env node
// `hfi` (package.json "bin"): runs cli/main.ts through tsx, like the rest of the project's tools.
"use strict";
require("tsx/cjs/api").register();
require("./main.ts").run(process.argv.slice(2));
