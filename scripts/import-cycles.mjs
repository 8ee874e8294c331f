#!/usr/bin/env node
// Import-cycle check, run by scripts/test.sh after lint: scans packages/*/src and plugins/*/src for
// relative imports (type-only, re-exports and dynamic import() included) and fails on any cycle.
// Dependency-free on purpose: plain Node, no parser; it reads only import/export statements.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { join, dirname, resolve, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const exts = [".ts", ".tsx", ".mts", ".cts"];

function listSources(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (name !== "node_modules" && name !== "dist") listSources(p, out);
    } else if (exts.some((e) => name.endsWith(e)) && !name.endsWith(".d.ts")) {
      out.push(p);
    }
  }
  return out;
}

function srcDirs() {
  const dirs = [];
  for (const group of ["packages", "plugins"]) {
    const g = join(root, group);
    if (!existsSync(g)) continue;
    for (const name of readdirSync(g)) {
      const src = join(g, name, "src");
      if (existsSync(src) && statSync(src).isDirectory()) dirs.push(src);
    }
  }
  return dirs;
}

// Comments are blanked (keeping newlines and string contents) so an import in a comment is not read.
function stripComments(text) {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const n = text[i + 1];
    if (c === "/" && n === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && n === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const patterns = [
  // import ... from "./x.js", import type ... from, export ... from, export type ... from
  /(?:^|[;}\n])\s*(?:import|export)\b[^;'"`]*?\bfrom\s*(["'])(\.{1,2}\/[^"']+)\1/g,
  // import "./x.js" (side effects only)
  /(?:^|[;}\n])\s*import\s*(["'])(\.{1,2}\/[^"']+)\1/g,
  // import("./x.js"), also in types: typeof import("./x.js")
  /\bimport\s*\(\s*(["'])(\.{1,2}\/[^"']+)\1\s*\)/g,
];

function resolveImport(fromFile, spec) {
  const base = resolve(dirname(fromFile), spec);
  const stem = base.replace(/\.(?:m|c)?js$/, "");
  const candidates = [base, ...exts.map((e) => stem + e), ...exts.map((e) => join(base, "index" + e))];
  return candidates.find((p) => existsSync(p) && statSync(p).isFile());
}

const files = srcDirs().flatMap((d) => listSources(d, []));
const edges = new Map(files.map((f) => [f, new Set()]));
for (const f of files) {
  const text = stripComments(readFileSync(f, "utf8"));
  for (const re of patterns) {
    for (const m of text.matchAll(re)) {
      const target = resolveImport(f, m[2]);
      if (target !== undefined && edges.has(target)) edges.get(f).add(target);
    }
  }
}

// Tarjan's strongly connected components; every component of two or more files (or a file that
// imports itself) holds at least one cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const onStack = new Set();
const stack = [];
const components = [];
function strongConnect(v) {
  idx.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v)) {
    if (!idx.has(w)) {
      strongConnect(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) {
      low.set(v, Math.min(low.get(v), idx.get(w)));
    }
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1 || edges.get(v).has(v)) components.push(comp);
  }
}
for (const f of files) if (!idx.has(f)) strongConnect(f);

// For each import inside a component, the shortest way back closes one cycle; together these
// cycles use every import that would have to go to break the component.
function shortestPath(from, to, members) {
  const prev = new Map([[from, null]]);
  const queue = [from];
  while (queue.length > 0) {
    const v = queue.shift();
    if (v === to) break;
    for (const w of edges.get(v)) {
      if (members.has(w) && !prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  const path = [];
  for (let v = to; v !== null; v = prev.get(v)) path.unshift(v);
  return path;
}

const rel = (p) => relative(root, p);
const cycles = [];
for (const comp of components) {
  const members = new Set(comp);
  const seen = new Set();
  const found = [];
  for (const u of [...comp].sort()) {
    for (const v of [...edges.get(u)].sort()) {
      if (!members.has(v)) continue;
      const cycle = u === v ? [u] : [u, ...shortestPath(v, u, members).slice(0, -1)];
      const start = cycle.indexOf([...cycle].sort()[0]);
      const canon = [...cycle.slice(start), ...cycle.slice(0, start)];
      const key = canon.join("\0");
      if (!seen.has(key)) {
        seen.add(key);
        found.push(canon);
      }
    }
  }
  cycles.push({ files: [...comp].map(rel).sort(), found });
}

if (cycles.length === 0) {
  console.log(`import-cycles: ${files.length} files, no cycle`);
  process.exit(0);
}
for (const { files: members, found } of cycles) {
  console.error(`import cycle among ${members.length} files: ${members.join(", ")}`);
  for (const c of found) console.error(`  ${[...c, c[0]].map(rel).join(" -> ")}`);
}
console.error(`import-cycles: ${cycles.length} group(s) of files import each other; break each cycle above`);
process.exit(1);
