import type { Route } from "./router.js";

export interface PageContext {
  main: HTMLElement;
  route: Route;
  /** False once the user has navigated elsewhere: a late answer must not overwrite the new page. */
  isCurrent: () => boolean;
  /** Renders the current route again (after a review, a new token, ...); optionally focuses its heading. */
  refresh: (moveFocus?: boolean) => void;
}

export type Page = (ctx: PageContext) => Promise<void>;
