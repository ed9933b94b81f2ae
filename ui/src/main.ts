import { getToken, setToken, whenTokenNeeded } from "./auth.js";
import { h, render } from "./dom.js";
import type { Page } from "./page.js";
import { detailPage } from "./pages/detail.js";
import { logPage } from "./pages/log.js";
import { mismatchesPage } from "./pages/mismatches.js";
import { operatorPage } from "./pages/operator.js";
import { queuePage } from "./pages/queue.js";
import { currentRoute } from "./router.js";
import { pageHeading } from "./widgets.js";

const PAGES: Record<string, { page: Page; title: string }> = {
  queue: { page: queuePage, title: "Review queue" },
  decisions: { page: detailPage, title: "Decision" },
  log: { page: logPage, title: "Decision log" },
  mismatches: { page: mismatchesPage, title: "Shadow mismatches" },
  operator: { page: operatorPage, title: "Operator" },
};

const main = document.getElementById("main") as HTMLElement;
let generation = 0;

function markNav(section: string): void {
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav.sections a")) {
    const target = a.getAttribute("href")?.replace(/^#\//, "") ?? "";
    // A decision belongs to the queue section for orientation.
    const active = target === section || (section === "decisions" && target === "queue");
    if (active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function show(moveFocus: boolean): Promise<void> {
  const route = currentRoute();
  const section = route.path[0] ?? "queue";
  const entry = PAGES[section];
  const mine = ++generation;
  markNav(section);
  if (!entry) {
    render(
      main,
      ...pageHeading("Not found", `There is no page "${section}" in the console.`),
      h("p", {}, h("a", { href: "#/queue" }, "Go to the review queue")),
    );
    return;
  }
  document.title = `${entry.title} · policy-advisor`;
  try {
    await entry.page({
      main,
      route,
      isCurrent: () => mine === generation,
      refresh: (focus = false) => void show(focus),
    });
  } catch (err) {
    if (mine === generation)
      render(
        main,
        ...pageHeading(entry.title),
        h("p", { role: "alert", class: "error" }, `This page failed: ${String(err)}`),
      );
  }
  // Moving focus to the new heading tells keyboard and screen reader users the page changed.
  if (moveFocus && mine === generation) document.getElementById("page-title")?.focus();
}

/* The token dialog: asked for on 401/403, kept in sessionStorage only. */
const dialog = document.getElementById("token-dialog") as HTMLDialogElement;
const tokenForm = document.getElementById("token-form") as HTMLFormElement;
const tokenInput = document.getElementById("token-input") as HTMLInputElement;
const tokenReason = document.getElementById("token-reason") as HTMLElement;
const tokenButton = document.getElementById("token-button") as HTMLButtonElement;
const forgetButton = document.getElementById("token-forget") as HTMLButtonElement;

function updateTokenButton(): void {
  tokenButton.textContent = getToken() ? "Reviewer token: set" : "Reviewer token";
}

function openTokenDialog(reason: string): void {
  tokenReason.textContent = reason;
  tokenInput.value = "";
  if (!dialog.open) dialog.showModal();
  tokenInput.focus();
}

whenTokenNeeded((why) =>
  openTokenDialog(
    why === "missing"
      ? getToken()
        ? "The sidecar did not accept this token. Enter a valid reviewer token."
        : "This sidecar requires a reviewer token. Enter it to continue; it is kept for this browser tab only."
      : getToken()
        ? "The sidecar refused this token for that action. Enter a reviewer token."
        : "The sidecar requires a reviewer token for that action.",
  ),
);
tokenButton.addEventListener("click", () =>
  openTokenDialog(
    "The token is sent as a Bearer token with each request and kept for this browser tab only.",
  ),
);
tokenForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const v = tokenInput.value.trim();
  if (!v) {
    tokenReason.textContent = "Enter a token, or press Cancel.";
    tokenInput.focus();
    return;
  }
  setToken(v);
  dialog.close();
  updateTokenButton();
  void show(false);
});
forgetButton.addEventListener("click", () => {
  setToken(null);
  dialog.close();
  updateTokenButton();
});
document.getElementById("token-cancel")?.addEventListener("click", () => dialog.close());

// The skip link cannot be a plain in-page anchor: the URL fragment holds the console's route.
document.querySelector(".skip-link")?.addEventListener("click", (e) => {
  e.preventDefault();
  main.focus();
});

window.addEventListener("hashchange", () => void show(true));
updateTokenButton();
if (!location.hash) history.replaceState(null, "", "#/queue");
void show(false);
