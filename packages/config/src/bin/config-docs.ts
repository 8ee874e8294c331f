// Writes docs/config.md from the variable table: `npm run -w @lnsd/config docs` (path as argument).
import { writeFileSync } from "node:fs";
import { renderConfigDocs } from "../index.js";

const target = process.argv[2];
if (target === undefined) {
  console.error("usage: config-docs OUTPUT.md");
  process.exitCode = 2;
} else {
  writeFileSync(target, renderConfigDocs());
  console.error(`config-docs: wrote ${target}`);
}
