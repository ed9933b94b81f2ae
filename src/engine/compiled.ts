import type { LoadedPolicy } from "../policy/load.js";
import type { ActionClass, PolicyDocument, ResourceRisk } from "../policy/schema.js";
import { Memo } from "./memo.js";

/** The policy with its patterns compiled once, so that a decision does no regex construction. */
export interface CompiledPolicy {
  doc: PolicyDocument;
  revision: string;
  classPatterns: Array<{ cls: ActionClass; patterns: RegExp[] }>;
  resources: Array<{ def: ResourceRisk; patterns: RegExp[] }>;
  /** Per-policy memos of the pattern matches below: the same action types and resources recur. */
  memo: { classes: Memo<ClassMatch>; resources: Memo<readonly ResourceRisk[]>; references: Memo<string> };
}

export interface ClassMatch {
  cls: ActionClass;
  matched: boolean;
}

/** Class precedence: an action named for reading is a read; otherwise the most dangerous reading wins. */
const CLASS_ORDER: readonly ActionClass[] = ["read", "admin", "deploy", "write"];

export function compilePolicy(policy: LoadedPolicy): CompiledPolicy {
  const doc = policy.doc;
  return {
    doc,
    revision: policy.revision,
    classPatterns: CLASS_ORDER.map((cls) => ({
      cls,
      patterns: doc.actionClasses[cls].patterns.map((p) => new RegExp(p, "i")),
    })),
    resources: doc.resources.map((def) => ({ def, patterns: def.patterns.map((p) => new RegExp(p, "i")) })),
    memo: { classes: new Memo(), resources: new Memo(), references: new Memo() },
  };
}

export function classifyAction(cp: CompiledPolicy, actionType: string): ClassMatch {
  return cp.memo.classes.get(actionType, (a) => {
    for (const { cls, patterns } of cp.classPatterns) {
      if (patterns.some((p) => p.test(a))) return Object.freeze({ cls, matched: true });
    }
    return Object.freeze({ cls: cp.doc.unknownActionClass, matched: false });
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
