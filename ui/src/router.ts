/** Hash routes (#/queue, #/decisions/ID, #/log?q=...): the console is one static page, no server routing. */

export interface Route {
  path: string[];
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const raw = location.hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const pathPart = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? "" : raw.slice(q + 1);
  return {
    path: pathPart
      .split("/")
      .filter(Boolean)
      .map((p) => decodeURIComponent(p)),
    params: new URLSearchParams(query),
  };
}

export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const qs = q.toString();
  return `#${path}${qs ? `?${qs}` : ""}`;
}

export function decisionHref(id: string): string {
  return `#/decisions/${encodeURIComponent(id)}`;
}

/** Reads the filter fields of a form into route params, dropping empty ones. */
export function formParams(form: HTMLFormElement): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of new FormData(form).entries()) {
    if (typeof v === "string" && v.trim() !== "") out[k] = v.trim();
  }
  return out;
}
