import type { LoadedPolicy } from "../policy/load.js";
import type { ActionClass, PolicyDocument, ResourceRisk } from "../policy/schema.js";
import { Memo } from "./memo.js";

/** The policy with its patterns compiled once, so that a decision does no regex construction. */
export interface CompiledPolicy {
  doc: PolicyDocument;
  revision: string;
  classPatterns: Array<{ cls: ActionClass; patterns: RegExp[] }>;
  privilegedNouns: RegExp[];
  resources: Array<{ def: ResourceRisk; patterns: RegExp[] }>;
  /** Per-policy memos of the pattern matches below: the same action types and resources recur. */
  memo: { classes: Memo<ClassMatch>; resources: Memo<readonly ResourceRisk[]>; references: Memo<string> };
}

export interface ClassMatch {
  /** The riskiest reading of the name. */
  cls: ActionClass;
  /** Some pattern matched (false: the policy's unknownActionClass applies). */
  matched: boolean;
  /** Every class some part of the name reads as, riskiest first. */
  readings: readonly ActionClass[];
  /** The name joins several actions ("read_then_drop", "get_and_delete") or reads as several classes. */
  compound: boolean;
  /** A token names roles, permissions, ownership or credentials. */
  privileged: boolean;
}

export const CLASS_RANK: Readonly<Record<ActionClass, number>> = { read: 0, write: 1, deploy: 2, admin: 3 };

/** Words that join two actions in one name: the name then does both, and the riskier one counts. */
const CONNECTIVES = new Set(["and", "then", "plus", "also", "or", "with", "after", "before", "while", "via"]);

export function compilePolicy(policy: LoadedPolicy): CompiledPolicy {
  const doc = policy.doc;
  return {
    doc,
    revision: policy.revision,
    classPatterns: (["admin", "deploy", "write", "read"] as const).map((cls) => ({
      cls,
      patterns: doc.actionClasses[cls].patterns.map((p) => new RegExp(p, "i")),
    })),
    privilegedNouns: doc.privilegedNouns.map((p) => new RegExp(p, "i")),
    resources: doc.resources.map((def) => ({ def, patterns: def.patterns.map((p) => new RegExp(p, "i")) })),
    memo: { classes: new Memo(), resources: new Memo(), references: new Memo() },
  };
}

/**
 * The class of a normalised action type, read by effect: the whole name and each word token are matched,
 * every class that matches counts, and the riskiest wins. A change to something privileged (a role, an
 * owner, a permission) is administration whatever the verb; a name with no known verb fails closed.
 */
export function classifyAction(cp: CompiledPolicy, action: string): ClassMatch {
  return cp.memo.classes.get(action, (a) => {
    const tokens = a.split("_").filter(Boolean);
    const parts = tokens.length > 1 ? [a, ...tokens] : [a];
    const readings = cp.classPatterns
      .filter(({ patterns }) => patterns.some((p) => parts.some((x) => p.test(x))))
      .map(({ cls }) => cls);
    const privileged = tokens.some((t) => cp.privilegedNouns.some((p) => p.test(t)));
    const matched = readings.length > 0;
    let cls: ActionClass = matched ? readings[0]! : cp.doc.unknownActionClass;
    if (privileged && (cls === "write" || !matched)) cls = "admin";
    return Object.freeze({
      cls,
      matched,
      readings: Object.freeze(readings),
      compound: readings.length > 1 || tokens.some((t) => CONNECTIVES.has(t)),
      privileged,
    });
  });
}

/** The resource classes a resource name falls in (shared between calls: never mutate the result). */
export function matchResources(cp: CompiledPolicy, resource: string): readonly ResourceRisk[] {
  if (!resource) return [];
  return cp.memo.resources.get(resource, (r) =>
    Object.freeze(
      cp.resources.filter(({ patterns }) => patterns.some((p) => p.test(r))).map(({ def }) => def),
    ),
  );
}
