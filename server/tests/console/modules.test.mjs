// The console's modules as files (server/agent/): the import graph written at the top of
// main.js is the real one and has no cycles, the pure modules stay pure, and index.html loads
// (and preloads) every module under names the server serves.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("../../agent/", import.meta.url));
const page = readFileSync(fileURLToPath(new URL("../../agent/index.html", import.meta.url)), "utf8");
const modules = readdirSync(dir).filter((f) => f.endsWith(".js")).sort();
const source = Object.fromEntries(modules.map((f) => [f, readFileSync(dir + f, "utf8")]));

function importsOf(text) {
  return [...text.matchAll(/^import\s[^;]*?from\s+"\.\/([^"]+)";/gms)].map((m) => m[1]).sort();
}

// main.js's table: `//     name.js   what it is   imports` (columns apart by two spaces or more).
function documented() {
  const table = {};
  let section = null;
  for (const line of source["main.js"].split("\n")) {
    if (!line.startsWith("//")) break;
    if (/^\/\/\s+pure\b/.test(line)) section = "pure";
    else if (/^\/\/\s+the page:/.test(line)) section = "page";
    const row = /^\/\/\s+(\S+\.js)\s{2,}.*?\S\s{2,}(\S.*)$/.exec(line);
    if (row && section) {
      const imports = row[2].trim() === "nothing" ? [] : row[2].split(",").map((s) => s.trim() + ".js");
      table[row[1]] = { section, imports: imports.sort(), position: Object.keys(table).length };
    }
  }
  return table;
}

test("main.js lists every module with exactly the modules it imports, each below those", () => {
  const table = documented();
  assert.deepEqual(Object.keys(table).sort(), modules);
  for (const f of modules) {
    assert.deepEqual(importsOf(source[f]), table[f].imports, f);
    for (const g of table[f].imports) assert.ok(table[g].position < table[f].position, `${f} imports ${g}, listed below it`);
  }
});

test("no module imports one that imports it back, however far round", () => {
  const graph = Object.fromEntries(modules.map((f) => [f, importsOf(source[f])]));
  const state = {};
  const visit = (f, path) => {
    if (state[f] === "done") return;
    assert.notEqual(state[f], "visiting", "cycle: " + [...path, f].join(" → "));
    state[f] = "visiting";
    for (const g of graph[f]) {
      assert.ok(graph[g], `${f} imports ${g}, which is not a module here`);
      visit(g, [...path, f]);
    }
    state[f] = "done";
  };
  for (const f of modules) visit(f, []);
});

test("pure modules touch no DOM, no storage, no network, and import only pure modules", () => {
  const table = documented();
  const pure = modules.filter((f) => table[f].section === "pure");
  assert.ok(pure.length >= 6, pure.join());
  for (const f of pure) {
    const code = source[f].replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(code, /\b(document|window|fetch|localStorage|sessionStorage|setTimeout|XMLHttpRequest)\b/, f);
    for (const g of importsOf(source[f])) assert.ok(pure.includes(g), `${f} imports ${g}, which is not pure`);
  }
});

test("index.html starts main.js as a module and preloads every other module", () => {
  const scripts = [...page.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, ['<script type="module" src="/agent/main.js">']);
  assert.doesNotMatch(page, /<script[^>]*>[^<]/, "no inline script");
  const preloaded = [...page.matchAll(/<link rel="modulepreload" href="\/agent\/([^"]+)">/g)].map((m) => m[1]).sort();
  assert.deepEqual(preloaded, modules.filter((f) => f !== "main.js"));
});

test("module names are ones the server serves (/agent/<lower-case, digits, dashes>.js)", () => {
  for (const f of modules) assert.match(f, /^[a-z0-9-]+\.js$/);
});
