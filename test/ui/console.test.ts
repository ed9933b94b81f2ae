import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  axeViolations,
  chromiumAvailable,
  configChange,
  ensureUiBuilt,
  factValue,
  hostileDeploy,
  launchBrowser,
  openPage,
  readDocs,
  type Sidecar,
  screenshot,
  startSidecar,
} from "./browser.js";

let browser: Browser;
const errors: string[] = [];

beforeAll(async () => {
  if (!chromiumAvailable) return;
  ensureUiBuilt();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(() => {
  // Script errors and CSP violations fail whichever test caused them.
  const seen = errors.splice(0);
  expect(seen).toEqual([]);
});

async function goto(page: Page, sidecar: Sidecar, route: string): Promise<void> {
  await page.goto(`${sidecar.url}/ui/#${route}`);
  await page.waitForLoadState("networkidle");
}

describe.skipIf(!chromiumAvailable)("review console, empty decision log", () => {
  let sidecar: Sidecar;
  let page: Page;
  beforeAll(async () => {
    sidecar = await startSidecar();
    page = await openPage(browser, errors);
  });
  afterAll(async () => {
    await page?.context().close();
    await sidecar?.close();
  });

  it("redirects /ui to the console and opens on the review queue with a helpful empty state", async () => {
    await page.goto(`${sidecar.url}/ui`);
    await page.waitForLoadState("networkidle");
    expect(new URL(page.url()).pathname).toBe("/ui/");
    expect(new URL(page.url()).hash).toBe("#/queue");
    await expect(page.getByRole("heading", { level: 2, name: "Review queue" }).isVisible()).resolves.toBe(
      true,
    );
    const empty = page.locator(".empty");
    await empty.waitFor();
    expect(await empty.textContent()).toContain("Nothing is waiting for review.");
    expect(await empty.textContent()).toContain("advisory mode");
    expect(await factValue(page, "Override rate")).toBe("no sample");
    await screenshot(page, "queue-empty");
    expect(await axeViolations(page), "queue-empty").toEqual([]);
  });

  it("the accessibility check itself catches a violation (guards the checks above and below)", async () => {
    await goto(page, sidecar, "/queue");
    await page.locator(".empty").waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.evaluate(() => {
      const probe = document.createElement("input");
      probe.id = "axe-probe";
      document.getElementById("main")?.appendChild(probe);
    });
    const found = await axeViolations(page);
    await page.evaluate(() => document.getElementById("axe-probe")?.remove());
    expect(found.map((v) => v.id)).toContain("label");
  });

  it("says the decision log is empty and how it fills", async () => {
    await goto(page, sidecar, "/log");
    const empty = page.locator(".empty");
    await empty.waitFor();
    expect(await empty.textContent()).toContain("The decision log is empty.");
    expect(await empty.textContent()).toContain("POST /v1/advisory");
    await screenshot(page, "log-empty");
    expect(await axeViolations(page), "log-empty").toEqual([]);
  });

  it("names an unknown decision id and an unknown page instead of showing a blank page", async () => {
    await goto(page, sidecar, "/decisions/no-such-decision");
    const error = page.locator("main .error");
    await error.waitFor();
    expect(await error.textContent()).toContain("Could not load decision no-such-decision.");
    expect(await page.getByRole("link", { name: "Back to the queue" }).count()).toBe(1);
    await goto(page, sidecar, "/nonsense");
    await page.getByRole("heading", { level: 2, name: "Not found" }).waitFor();
    expect(await page.locator("main").textContent()).toContain('There is no page "nonsense" in the console.');
  });

  it("shows the operator page without data: modes per tier, no charts, an explanation", async () => {
    await goto(page, sidecar, "/operator");
    await page.locator(".tier-card").first().waitFor();
    expect(await page.locator(".tier-card").count()).toBe(5);
    expect(await page.locator("main").textContent()).toContain("No decision in this period.");
    expect(await page.locator("main .error").count()).toBe(0);
    await screenshot(page, "operator-empty");
    expect(await axeViolations(page), "operator-empty").toEqual([]);
  });
});

describe.skipIf(!chromiumAvailable)("review console with decisions", () => {
  let sidecar: Sidecar;
  let page: Page;
  let denyId: string;
  beforeAll(async () => {
    sidecar = await startSidecar({ mode: "advisory" });
    await sidecar.advise(readDocs);
    await sidecar.advise(configChange);
    // The caller's own engine allowed what the advisor denies: a mismatch.
    await sidecar.advise({
      request: { ...hostileDeploy, actor_id: "user:eve", details: "routine" },
      control: { decision: "allow" },
    });
    denyId = (await sidecar.advise(hostileDeploy)).decisionId;
    page = await openPage(browser, errors);
  });
  afterAll(async () => {
    await page?.context().close();
    await sidecar?.close();
  });

  it("lists advisories awaiting review, newest first, and filters them", async () => {
    await goto(page, sidecar, "/queue");
    await page.locator("table a.row-link").first().waitFor();
    expect(await page.locator("#queue-results").textContent()).toBe("4 waiting for review");
    const rows = await page.locator("table a.row-link").allTextContents();
    expect(rows[0]).toBe("deploy_service by user:mallory");
    expect(rows).toContain("read by user:alice");
    // Eve's request carried the caller's own decision: shown beside the advice.
    const headers = await page.locator("thead th").allTextContents();
    const eve = page.locator("tbody tr", {
      has: page.getByRole("link", { name: "deploy_service by user:eve" }),
    });
    const eveCells = await eve.locator("td").allTextContents();
    expect(eveCells[headers.indexOf("Advisor recommends")]).toBe("Deny");
    expect(eveCells[headers.indexOf("Caller's decision")]).toBe("Allow");
    await screenshot(page, "queue");
    expect(await axeViolations(page), "queue").toEqual([]);

    await page.getByLabel("Actor").fill("user:alice");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForLoadState("networkidle");
    await expect
      .poll(() => page.locator("table a.row-link").allTextContents())
      .toEqual(["read by user:alice"]);
    expect(new URL(page.url()).hash).toBe("#/queue?actor=user%3Aalice");
  });

  it("shows a decision: recommendation, reasoning steps, signals, references, versions; free text as text", async () => {
    await goto(page, sidecar, `/decisions/${denyId}`);
    await page.locator(".recommendation").waitFor();
    expect(await page.locator(".rec-line").textContent()).toBe("Advisor recommends: DENY");
    expect(await page.locator(".recommendation").textContent()).toContain("high risk");
    expect(await page.locator(".classification").textContent()).toBe("unauthorized deploy action");
    expect(await page.locator("details.step summary").allTextContents()).toEqual([
      "1. Role check",
      "2. Trust check",
      "3. Environment",
      "4. Context",
    ]);
    expect(await page.locator(".refs li").count()).toBeGreaterThan(0);
    expect(await factValue(page, "Policy version")).toMatch(/\S+/);
    expect(await factValue(page, "Model")).toBe("none (rules)");

    // The hostile details field: shown character for character, never parsed as markup or run.
    const details = page
      .locator(".json-entry", { has: page.locator("dt", { hasText: /^details$/ }) })
      .locator("dd");
    expect(await details.textContent()).toBe(hostileDeploy.details);
    expect(await page.locator(".request img, .request b").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await screenshot(page, "detail");
    expect(await axeViolations(page), "detail").toEqual([]);
  });

  it("an override changes the override rate shown and leaves the queue", async () => {
    await goto(page, sidecar, "/queue");
    expect(await factValue(page, "Override rate")).toBe("no sample");

    await goto(page, sidecar, `/decisions/${denyId}`);
    await page.locator(".review-form").waitFor();
    // Allowing what the advisor denied: the category suggests itself as "too strict".
    await page.getByRole("radio", { name: "Allow" }).check();
    expect(await page.getByRole("radio", { name: "Too strict" }).isChecked()).toBe(true);
    await page.getByLabel("Notes (optional)").fill("Hotfix approved by the <on-call> lead");
    await page.getByRole("button", { name: "Submit review" }).click();
    await page.locator(".status-success").waitFor();
    expect(await page.locator(".status-success").textContent()).toBe("Review saved: Allow (Too strict).");
    expect(await page.locator(".existing-review").textContent()).toContain(
      "Notes: Hotfix approved by the <on-call> lead",
    );
    await screenshot(page, "detail-reviewed");
    expect(await axeViolations(page), "detail-reviewed").toEqual([]);

    await page.getByRole("link", { name: "Back to the queue" }).click();
    await page.waitForLoadState("networkidle");
    await expect.poll(() => factValue(page, "Override rate")).toBe("100.0 % (1 reviewed)");
    // Agreement compares the advice with the caller's control: eve's request carried one, and it differed.
    expect(await factValue(page, "Agreement rate")).toBe("0.0 % (1 with a control)");
    expect(await page.locator("#queue-results").textContent()).toBe("3 waiting for review");
    expect(await page.locator("table a.row-link").allTextContents()).not.toContain(
      "deploy_service by user:mallory",
    );
  });

  it("refuses 'agree' with a final decision that differs from the advice, naming both", async () => {
    await goto(page, sidecar, "/queue");
    await page.getByRole("link", { name: "update_config by user:carol" }).click();
    await page.locator(".review-form").waitFor();
    await page.getByRole("radio", { name: "Deny" }).check();
    await page.getByRole("radio", { name: "Agree", exact: true }).check();
    await page.getByRole("button", { name: "Submit review" }).click();
    const msg = page.locator(".form-message [role=alert]");
    await msg.waitFor();
    expect(await msg.textContent()).toContain("A final decision of Deny differs from the advice (Allow)");
  });

  it("searches the decision log by free text and shows mismatches side by side", async () => {
    await goto(page, sidecar, "/log");
    await page.locator("table").waitFor();
    expect(await page.locator("#log-results").textContent()).toBe("4 decisions");
    await page.getByLabel("Search text").fill("mallory");
    await page.getByLabel("Search text").press("Enter");
    await expect
      .poll(() => page.locator("main table a").allTextContents())
      .toEqual(["deploy_service by user:mallory"]);
    await screenshot(page, "log");
    expect(await axeViolations(page), "log").toEqual([]);

    await goto(page, sidecar, "/mismatches");
    await page.locator("table").waitFor();
    expect(await page.locator("#mm-results").textContent()).toBe("1 mismatch");
    const cells = await page.locator("tbody tr").first().locator("td").allTextContents();
    expect(cells).toContain("Allow"); // control
    expect(cells).toContain("Deny"); // advice
    expect(cells[1]).toBe("deploy_service by user:eve");
    await screenshot(page, "mismatches");
    expect(await axeViolations(page), "mismatches").toEqual([]);
  });

  it("shows the operator page: modes, gates, charts, runtime", async () => {
    await goto(page, sidecar, "/operator");
    await page.locator(".tier-card").first().waitFor();
    await page.locator(".chart-figure canvas").first().waitFor();
    expect(await page.locator(".chart-figure figcaption").allTextContents()).toEqual(
      expect.arrayContaining([
        "Decision distribution over time",
        "Agreement and override rate",
        "Latency",
        "Error rate",
      ]),
    );
    expect(await factValue(page, "Sample size", "#main section[aria-labelledby=overall-title]")).toBe(
      "4 decisions",
    );
    expect(await factValue(page, "Cache hit rate")).toBe("cache off");
    expect(await factValue(page, "Queue depth")).toMatch(/^0 waiting of \d+$/);
    const deployProd = page.locator(".tier-card", { has: page.locator("h3", { hasText: "deploy prod" }) });
    expect(await deployProd.locator(".badge").first().textContent()).toBe("advisory");
    expect(await deployProd.locator("table").first().locator("tbody tr").count()).toBeGreaterThan(0);
    expect(await page.locator("main .error").count()).toBe(0);
    await screenshot(page, "operator");
    expect(await axeViolations(page), "operator").toEqual([]);
  });

  it("rolls a tier back from the operator page and shows the event", async () => {
    await goto(page, sidecar, "/operator");
    const card = page.locator(".tier-card", { has: page.locator("h3", { hasText: /^write/ }) });
    await card.waitFor();
    expect(await card.locator("h3 .badge").textContent()).toBe("advisory");
    await card.getByText("Change mode").click();
    // A rollback needs a reason: the browser refuses the empty form.
    await card.getByRole("button", { name: "Roll back" }).click();
    expect(
      await card
        .getByLabel("Why roll back (recorded)")
        .evaluate((el) => (el as HTMLInputElement).validity.valueMissing),
    ).toBe(true);
    await card.getByLabel("Why roll back (recorded)").fill("overrides spiking after the config change");
    await card.getByRole("button", { name: "Roll back" }).click();
    await expect.poll(() => card.locator("h3 .badge").textContent()).toBe("shadow");
    const events = card.locator("table", { has: page.locator("caption", { hasText: "Rollback events" }) });
    expect(await events.locator("tbody td").allTextContents()).toEqual(
      expect.arrayContaining(["advisory → shadow", "overrides spiking after the config change"]),
    );
    await screenshot(page, "operator-rollback");
    expect(await axeViolations(page), "operator-rollback").toEqual([]);
  });

  it("notices new advisories while the queue is open, without re-rendering under the reviewer", async () => {
    await goto(page, sidecar, "/queue");
    await page.locator("table a.row-link").first().waitFor();
    const before = Number.parseInt((await page.locator("#queue-results").textContent()) ?? "", 10);
    await sidecar.advise({ ...readDocs, actor_id: "user:newcomer" });
    const notice = page.locator(".queue-notice");
    await notice.getByRole("button", { name: "Show the current queue" }).waitFor({ timeout: 15_000 });
    expect(await notice.textContent()).toContain(`${before + 1} waiting now`);
    // The list itself did not move while the reviewer was reading it.
    expect(await page.locator("table a.row-link").allTextContents()).not.toContain("read by user:newcomer");
    await notice.getByRole("button", { name: "Show the current queue" }).click();
    await expect
      .poll(() => page.locator("table a.row-link").first().textContent())
      .toBe("read by user:newcomer");
    expect(await page.locator("#queue-results").textContent()).toBe(`${before + 1} waiting for review`);
  }, 45_000); // waits for one 10 s poll of the queue

  it("is usable with the keyboard alone: skip link, navigation, reasoning steps, agree", async () => {
    // A fresh load, so focus starts at the top of the document.
    await page.goto("about:blank");
    await goto(page, sidecar, "/queue");
    await page.locator("table a.row-link").first().waitFor();
    const active = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return { tag: el?.tagName ?? "", text: el?.textContent?.trim() ?? "", id: el?.id ?? "" };
      });
    await page.keyboard.press("Tab");
    expect((await active()).text).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect((await active()).id).toBe("main");
    expect(new URL(page.url()).hash).toBe("#/queue");

    // Tab to the first advisory and open it.
    const tabTo = async (pred: (a: { tag: string; text: string }) => boolean, max = 40): Promise<void> => {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press("Tab");
        if (pred(await active())) return;
      }
      throw new Error(
        `no focusable element matched after ${max} tabs (last: ${JSON.stringify(await active())})`,
      );
    };
    await tabTo((a) => a.tag === "A" && / by user:/.test(a.text));
    const opened = (await active()).text;
    await page.keyboard.press("Enter");
    await page.locator(".recommendation").waitFor();
    // The new page's heading takes focus, so a screen reader announces it.
    expect((await active()).id).toBe("page-title");
    expect(await page.locator("#page-title").textContent()).toBe(opened);

    await tabTo((a) => a.tag === "SUMMARY" && a.text === "3. Environment");
    expect(await page.locator("details.step").nth(2).getAttribute("open")).toBeNull();
    await page.keyboard.press("Enter");
    expect(await page.locator("details.step").nth(2).getAttribute("open")).toBe("");

    await tabTo((a) => a.tag === "BUTTON" && a.text.startsWith("Agree: "));
    await page.keyboard.press("Enter");
    await page.locator(".status-success").waitFor();
    expect(await page.locator(".status-success").textContent()).toMatch(/^Review saved: .+ \(Agree\)\.$/);

    // Navigation links are reachable and mark the current section.
    await page.keyboard.press("Shift+Tab");
    await page.locator("nav.sections a", { hasText: "Operator" }).focus();
    await page.keyboard.press("Enter");
    await page.locator(".tier-card").first().waitFor();
    expect(await page.locator("nav.sections a[aria-current=page]").textContent()).toBe("Operator");
  });
});

describe.skipIf(!chromiumAvailable)("a long decision log", () => {
  let sidecar: Sidecar;
  let page: Page;
  beforeAll(async () => {
    sidecar = await startSidecar({ mode: "enforce" });
    const requests = Array.from({ length: 60 }, (_, i) => ({ ...readDocs, actor_id: `user:u${i}` }));
    const res = await fetch(`${sidecar.url}/v1/advisory/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ requests }),
    });
    expect(res.status).toBe(200);
    page = await openPage(browser, errors);
  });
  afterAll(async () => {
    await page?.context().close();
    await sidecar?.close();
  });

  it("pages through it 50 at a time, each decision once", async () => {
    await goto(page, sidecar, "/log");
    await page.locator("table").waitFor();
    expect(await page.locator("#log-results").textContent()).toBe("60 decisions");
    expect(await page.locator("nav.pager span").textContent()).toBe("Showing 1–50 of 60");
    const first = await page.locator("tbody a").allTextContents();
    expect(first).toHaveLength(50);
    await page.getByRole("link", { name: "Older →" }).click();
    await expect.poll(() => page.locator("nav.pager span").textContent()).toBe("Showing 51–60 of 60");
    const second = await page.locator("tbody a").allTextContents();
    expect(second).toHaveLength(10);
    expect(new Set([...first, ...second]).size).toBe(60);
    expect(await page.getByRole("link", { name: "Older →" }).count()).toBe(0);
    await page.getByRole("link", { name: "← Newer" }).click();
    await expect.poll(() => page.locator("nav.pager span").textContent()).toBe("Showing 1–50 of 60");
  });
});

describe.skipIf(!chromiumAvailable)("review console with auth on", () => {
  const TOKEN = "reviewer-token-for-ui-tests-0123";
  const CALLER_TOKEN = "caller-token-for-ui-tests-45678";
  let sidecar: Sidecar;
  let page: Page;
  beforeAll(async () => {
    sidecar = await startSidecar({
      env: { POLICY_ADVISOR_REVIEWER_TOKEN: TOKEN, POLICY_ADVISOR_TOKEN: CALLER_TOKEN },
    });
    await sidecar.advise(readDocs, TOKEN);
    page = await openPage(browser, errors);
  });
  afterAll(async () => {
    await page?.context().close();
    await sidecar?.close();
  });

  it("asks for the reviewer token, keeps it in sessionStorage only and sends it as Bearer", async () => {
    const authHeaders: (string | undefined)[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname.startsWith("/v1/")) authHeaders.push(r.headers().authorization);
    });
    await goto(page, sidecar, "/queue");
    const dialog = page.getByRole("dialog", { name: "Reviewer token" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("requires a reviewer token");
    await screenshot(page, "token-dialog");
    expect(await axeViolations(page), "token-dialog").toEqual([]);

    await page.getByRole("textbox", { name: "Token" }).fill("not-the-right-token-at-all");
    await page.getByRole("button", { name: "Use this token" }).click();
    await expect
      .poll(() => page.locator("#token-reason").textContent())
      .toContain("did not accept this token");

    // A caller's token is valid but may not read the decision log: the console says so and asks again.
    await page.getByRole("textbox", { name: "Token" }).fill(CALLER_TOKEN);
    await page.getByRole("button", { name: "Use this token" }).click();
    await expect.poll(() => page.locator("#token-reason").textContent()).toContain("refused this token");
    expect(await page.locator("main .notice").first().textContent()).toContain(
      "A reviewer token is needed to load",
    );

    await page.getByRole("textbox", { name: "Token" }).fill(TOKEN);
    await page.getByRole("button", { name: "Use this token" }).click();
    await page.locator("table a.row-link").first().waitFor();
    expect(await page.locator("table a.row-link").allTextContents()).toEqual(["read by user:alice"]);
    expect(await dialog.isVisible()).toBe(false);

    const storage = await page.evaluate(() => ({
      session: sessionStorage.getItem("policy-advisor.reviewerToken"),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    expect(storage).toEqual({ session: TOKEN, local: 0, cookie: "" });
    expect(authHeaders.at(-1)).toBe(`Bearer ${TOKEN}`);
    expect(authHeaders[0]).toBeUndefined();
  });
});
