import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";

/** One regular expression the source code builds: where, and its pattern and flags. */
export interface RegexSite {
  /** Repository-relative path with forward slashes. */
  file: string;
  line: number;
  /** `literal` for /.../ and `constructor` for new RegExp(...) / RegExp(...). */
  kind: "literal" | "constructor";
  source: string;
  flags: string;
}

/** A `new RegExp(...)` whose pattern is not a compile-time constant (e.g. built from policy data). */
export interface DynamicRegexSite {
  file: string;
  line: number;
  /** The argument's text as written, so an allow-list entry can name it. */
  expression: string;
}

export interface RegexInventory {
  sites: RegexSite[];
  dynamic: DynamicRegexSite[];
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

/** Splits a regular-expression literal's text (`/abc/gi`) into its pattern and flags. */
function splitLiteral(text: string): { source: string; flags: string } {
  const end = text.lastIndexOf("/");
  return { source: text.slice(1, end), flags: text.slice(end + 1) };
}

/**
 * Folds an expression to the constant string it always has, or undefined when it is not one. Handles what
 * pattern-building code uses: string and template literals, String.raw`...`, `+` concatenation, constants
 * (also imported ones) and `re.source` of a regex literal constant.
 */
function constantString(node: ts.Expression, checker: ts.TypeChecker, depth = 0): string | undefined {
  if (depth > 20) return undefined; // a cycle of constants: not foldable
  const fold = (e: ts.Expression) => constantString(e, checker, depth + 1);
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node))
    return fold(node.expression);
  if (ts.isTemplateExpression(node)) {
    let out = node.head.text;
    for (const span of node.templateSpans) {
      const v = fold(span.expression);
      if (v === undefined) return undefined;
      out += v + span.literal.text;
    }
    return out;
  }
  if (ts.isTaggedTemplateExpression(node)) {
    if (node.tag.getText() !== "String.raw") return undefined;
    const t = node.template;
    if (ts.isNoSubstitutionTemplateLiteral(t)) return t.rawText;
    let out = t.head.rawText ?? "";
    for (const span of t.templateSpans) {
      const v = fold(span.expression);
      if (v === undefined) return undefined;
      out += v + (span.literal.rawText ?? "");
    }
    return out;
  }
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const l = fold(node.left);
    const r = fold(node.right);
    return l === undefined || r === undefined ? undefined : l + r;
  }
  if (ts.isPropertyAccessExpression(node) && node.name.text === "source") {
    const target = constantInitializer(node.expression, checker);
    if (target && ts.isRegularExpressionLiteral(target)) return splitLiteral(target.text).source;
    return undefined;
  }
  if (ts.isIdentifier(node)) {
    const init = constantInitializer(node, checker);
    return init ? fold(init) : undefined;
  }
  return undefined;
}

/** The initializer of the `const` an identifier names (following imports), if it is one. */
function constantInitializer(node: ts.Expression, checker: ts.TypeChecker): ts.Expression | undefined {
  if (!ts.isIdentifier(node)) return undefined;
  let symbol = checker.getSymbolAtLocation(node);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const decl = symbol?.valueDeclaration;
  if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer) return undefined;
  const list = decl.parent;
  if (!ts.isVariableDeclarationList(list) || !(list.flags & ts.NodeFlags.Const)) return undefined;
  return decl.initializer;
}

const isRegExpCallee = (e: ts.Expression): boolean => ts.isIdentifier(e) && e.text === "RegExp";

/** Every regex literal and RegExp construction under `dir`, found with the TypeScript compiler's own parser. */
export function findRegexes(root: string, dir: string): RegexInventory {
  const files = tsFiles(join(root, dir));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
    noLib: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const sites: RegexSite[] = [];
  const dynamic: DynamicRegexSite[] = [];
  for (const path of files) {
    const sf = program.getSourceFile(path);
    if (!sf) continue;
    const file = relative(root, path).split("\\").join("/");
    const lineOf = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    const visit = (node: ts.Node): void => {
      if (ts.isRegularExpressionLiteral(node)) {
        sites.push({ file, line: lineOf(node), kind: "literal", ...splitLiteral(node.text) });
      } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && isRegExpCallee(node.expression)) {
        const [patternArg, flagsArg] = node.arguments ?? [];
        const source = patternArg ? constantString(patternArg, checker) : "(?:)";
        const flags = flagsArg ? constantString(flagsArg, checker) : "";
        if (source === undefined || flags === undefined) {
          dynamic.push({ file, line: lineOf(node), expression: node.getText(sf) });
        } else {
          sites.push({ file, line: lineOf(node), kind: "constructor", source, flags });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { sites, dynamic };
}

/** A pattern in a policy file: where it is (file, line, path in the document) and its text. */
export interface PolicyPatternSite {
  file: string;
  line: number;
  /** As the loader names it, e.g. `actionClasses.admin.patterns[2]`. */
  path: string;
  source: string;
}

/**
 * Every string under a `patterns` key in each policy file under `dir` (YAML or JSON), wherever the key sits,
 * so that a pattern list added to the schema later is covered without a change here.
 */
export function findPolicyPatterns(root: string, dir: string): PolicyPatternSite[] {
  const out: PolicyPatternSite[] = [];
  const files = readdirSync(join(root, dir))
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  for (const name of files) {
    const file = `${dir}/${name}`;
    const lines = new LineCounter();
    const doc = parseDocument(readFileSync(join(root, file), "utf8"), { lineCounter: lines });
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    const walk = (node: unknown, path: string): void => {
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
          const p = path ? `${path}.${key}` : key;
          if (key === "patterns" && isSeq(pair.value)) {
            pair.value.items.forEach((item: unknown, i) => {
              if (!isScalar(item) || typeof item.value !== "string") return;
              const line = lines.linePos((item as YamlNode).range?.[0] ?? 0).line;
              out.push({ file, line, path: `${p}[${i}]`, source: item.value });
            });
          } else walk(pair.value, p);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          walk(item, `${path}[${i}]`);
        });
      }
    };
    walk(doc.contents, "");
  }
  return out;
}
