// Fails when flows.ts holds a type assertion (`x as T`, `<T>x`), a non-null assertion (`x!`),
// `any`, or a suppressed error: the flows must be writable against the generated client as it is.
import ts from "typescript";
import { readFileSync } from "node:fs";

const file = "flows.ts";
const text = readFileSync(file, "utf8");
const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
const found = [];
const at = (node) => {
  const { line } = source.getLineAndCharacterOfPosition(node.getStart());
  return `${file}:${line + 1}: ${node.getText().slice(0, 80)}`;
};
(function visit(node) {
  if (
    ts.isAsExpression(node) && node.type.getText() !== "const" ||
    ts.isTypeAssertionExpression(node) ||
    ts.isNonNullExpression(node) ||
    node.kind === ts.SyntaxKind.AnyKeyword
  ) {
    found.push(at(node));
  }
  ts.forEachChild(node, visit);
})(source);
if (/@ts-(ignore|expect-error|nocheck)/.test(text)) found.push(`${file}: a suppressed type error`);
if (found.length) {
  console.error("the flows need a cast, `any` or a suppression:\n" + found.join("\n"));
  process.exit(1);
}
console.log(`${file}: no casts`);
