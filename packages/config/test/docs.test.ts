import t from "tap";
import { readFileSync } from "node:fs";
import { STARTUP_VARIABLES, renderConfigDocs } from "../src/index.js";

void t.test("docs/config.md is generated from the table and up to date", (t) => {
  const path = new URL("../../../../docs/config.md", import.meta.url);
  const committed = readFileSync(path, "utf8");
  t.ok(committed === renderConfigDocs(), "docs/config.md matches; if not, run: npm run build && npm run -w @lnsd/config docs");
  for (const v of STARTUP_VARIABLES) t.ok(committed.includes(`| \`${v.name}\``), `${v.name} is documented`);
  t.end();
});
