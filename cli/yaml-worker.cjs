// A parse worker of cli/yaml-pool.ts: runs cli/yaml-worker.ts through tsx, as cli/hfi.cjs does.
"use strict";
require("tsx/cjs/api").register();
require("./yaml-worker.ts");
