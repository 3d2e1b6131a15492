// The UI decides by error `code` (and places messages by `field`), never by reading a message:
// messages are for people and may be reworded at any time. This reads every source file.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

function sources(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(svelte|ts)$/.test(name) && !name.endsWith(".test.ts") ? [path] : [];
  });
}

// `.message` followed by a method that inspects or rewrites it, or a comparison.
const PARSING = /\.message\s*(\.\s*(includes|startsWith|endsWith|match|search|indexOf|replace|split|toLowerCase|toUpperCase|charAt|slice|substring)\b|[=!]==?)/;

describe("error messages", () => {
  it("are shown, never parsed, anywhere in the UI", () => {
    const offenders = sources(fileURLToPath(new URL("..", import.meta.url))).flatMap((path) =>
      readFileSync(path, "utf8")
        .split("\n")
        .map((line, index) => ({ path, line: index + 1, text: line }))
        .filter(({ text }) => PARSING.test(text)),
    );
    expect(offenders).toEqual([]);
  });

  it("the check itself catches parsing", () => {
    expect(PARSING.test(`if (e.message.includes("username"))`)).toBe(true);
    expect(PARSING.test(`e.message.replace(/^this/, "This")`)).toBe(true);
    expect(PARSING.test(`error = e.message;`)).toBe(false);
  });
});
