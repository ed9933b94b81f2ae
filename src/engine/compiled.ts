import type { LoadedPolicy } from "../policy/load.js";
import type { ActionClass, PolicyDocument, ResourceRisk } from "../policy/schema.js";

/** The policy with its patterns compiled once, so that a decision does no regex construction. */
export interface CompiledPolicy {
  doc: PolicyDocument;
  revision: string;
  classPatterns: Array<{ cls: ActionClass; patterns: RegExp[] }>;
  resources: Array<{ def: ResourceRisk; patterns: RegExp[] }>;
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
  };
}

export function classifyAction(
  cp: CompiledPolicy,
  actionType: string,
): { cls: ActionClass; matched: boolean } {
  for (const { cls, patterns } of cp.classPatterns) {
    if (patterns.some((p) => p.test(actionType))) return { cls, matched: true };
  }
  return { cls: cp.doc.unknownActionClass, matched: false };
}

export function matchResources(cp: CompiledPolicy, resource: string): ResourceRisk[] {
  if (!resource) return [];
  return cp.resources.filter(({ patterns }) => patterns.some((p) => p.test(resource))).map(({ def }) => def);
}
