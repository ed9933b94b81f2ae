import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeModel } from "../../src/testing/gguf/model.js";
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
  trustedDeploy,
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

const RANK: Record<string, number> = { Deny: 0, "Require attestation": 1, Allow: 2 };
const rank = (label: string): number => RANK[label] ?? 9;

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
    expect(eveCells[headers.indexOf("Caller's decision")]).toBe("Allow ≠ advice");
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
    expect(await page.locator(".step .step-title").allTextContents()).toEqual([
      "1. Role check",
      "2. Trust check",
      "3. Environment",
      "4. Context",
    ]);
    // Every step is on screen at once: nothing to open one by one.
    for (const text of await page.locator(".step .step-text").all())
      expect(await text.isVisible()).toBe(true);
    expect(await page.locator("details.step").count()).toBe(0);
    // Times name their zone (the browser runs in New York time here, the machine in UTC).
    expect(await factValue(page, "Received")).toMatch(/ (EST|EDT)$/);
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
    // Nothing is chosen for the reviewer, and sending the untouched form records nothing.
    expect(await page.locator(".review-form input[type=radio]:checked").count()).toBe(0);
    expect(await page.getByRole("button", { name: /^Agree/ }).count()).toBe(0);
    await page.getByRole("button", { name: "Submit review" }).click();
    await page.waitForLoadState("networkidle");
    expect(await page.locator(".status-success").count()).toBe(0);
    expect((await sidecar.service.ctx.store.get(denyId))?.review).toBeUndefined();
    // Allowing what the advisor denied: the category suggests itself as "too strict".
    await page.getByRole("radio", { name: "Allow" }).check();
    expect(await page.getByRole("radio", { name: "Too strict" }).isChecked()).toBe(true);
    await page.getByLabel("Notes (optional)").fill("Hotfix approved by the <on-call> lead");
    await page.getByRole("button", { name: "Submit review" }).click();
    await page.locator(".status-success").waitFor();
    expect(await page.locator(".status-success").textContent()).toBe("Review saved: Allow (Too strict).");
    // What the review did, not only that it was saved.
    expect(await page.locator(".saved .effects").textContent()).toBe(
      "The decision left the review queue; it counts as an override in the deploy prod tier's override rate, " +
        "which the promotion gates and the automatic rollback watch. The deploy prod tier's mode did not change.",
    );
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

  it("searches the decision log by free text; shadow mismatches list none of these advisory ones", async () => {
    await goto(page, sidecar, "/log");
    await page.locator("table").waitFor();
    expect(await page.locator("#log-results").textContent()).toBe("4 decisions");
    // Eve's advice differed from her caller's control: the row stands out and says so.
    const eve = page.locator("tbody tr", {
      has: page.getByRole("link", { name: "deploy_service by user:eve" }),
    });
    expect(await eve.getAttribute("class")).toBe("differs");
    expect(await eve.textContent()).toContain("≠ advice");
    expect(await page.locator("tbody tr.differs").count()).toBe(1);
    // The date fields hold local time and say which.
    expect(await page.locator("label", { hasText: /^From \((EST|EDT)\)$/ }).count()).toBe(1);
    await page.getByLabel("Search text").fill("mallory");
    await page.getByLabel("Search text").press("Enter");
    await expect
      .poll(() => page.locator("main tbody a").allTextContents())
      .toEqual(["deploy_service by user:mallory"]);
    await screenshot(page, "log");
    expect(await axeViolations(page), "log").toEqual([]);

    // "Shadow mismatches" counts what it says: eve's mismatch was decided in advisory mode.
    await goto(page, sidecar, "/mismatches");
    await page.locator(".empty").waitFor();
    expect(await page.locator("#mm-results").textContent()).toBe("0 shadow mismatches");
    expect(await page.locator("main").textContent()).toContain(
      "Mismatches in advisory or enforce mode are in the decision log",
    );
  });

  it("sorts the log by a column, both ways, with the sort in the URL", async () => {
    await goto(page, sidecar, "/log");
    await page.locator("tbody tr").first().waitFor();
    const risk = page.locator("thead th", { hasText: /^Risk$/ });
    expect(await risk.count()).toBe(0); // the log has no risk column: sort by advice instead
    const advice = page.locator("thead th", { hasText: /^Advice$/ });
    expect(await advice.getAttribute("aria-sort")).toBe("none");
    await advice.getByRole("link").click();
    await expect.poll(() => advice.getAttribute("aria-sort")).toBe("ascending");
    expect(new URL(page.url()).hash).toContain("sort=advice&dir=asc");
    const order = async () => {
      const headers = await page.locator("thead th").allTextContents();
      const i = headers.indexOf("Advice");
      return Promise.all(
        (await page.locator("tbody tr").all()).map(
          async (r) => (await r.locator("td").nth(i).textContent()) ?? "",
        ),
      );
    };
    // Strictest first: deny, attestation, allow.
    const asc = await order();
    expect(asc).toEqual([...asc].sort((a, b) => rank(a) - rank(b)));
    expect(asc[0]).toBe("Deny");
    expect(await page.locator("caption").first().textContent()).toContain(
      "by advice (ascending) within this page",
    );
    await advice.getByRole("link").click();
    await expect.poll(() => advice.getAttribute("aria-sort")).toBe("descending");
    expect((await order())[0]).toBe("Allow");
    await screenshot(page, "log-sorted");
    expect(await axeViolations(page), "log-sorted").toEqual([]);
    // Time is the log's own order: oldest first asks the sidecar for it.
    const received = page.locator("thead th", { hasText: /^Received$/ });
    await received.getByRole("link").click();
    await expect.poll(() => received.getAttribute("aria-sort")).toBe("descending");
    expect(await page.locator("main tbody a").first().textContent()).toBe("deploy_service by user:mallory");
    await received.getByRole("link").click();
    await expect.poll(() => received.getAttribute("aria-sort")).toBe("ascending");
    expect(await page.locator("main tbody a").first().textContent()).toBe("read by user:alice");
  });

  it("tables use the whole width of a wide window", async () => {
    await page.setViewportSize({ width: 1920, height: 1000 });
    try {
      await goto(page, sidecar, "/log");
      await page.locator("main table").waitFor();
      const width = await page.locator("main table").evaluate((t) => t.getBoundingClientRect().width);
      expect(width).toBeGreaterThan(0.9 * 1920);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
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
    // A sample size says since when it counts, in the reader's zone.
    expect(await factValue(page, "Sample size", "#main section[aria-labelledby=overall-title]")).toMatch(
      /^4 decisions since .+ (EST|EDT)$/,
    );
    expect(await factValue(page, "Sample size", ".tier-card")).toMatch(/ decisions? since .+ (EST|EDT)$/);
    // Our own legend, naming each series; none of uPlot's placeholder legends of "--" values.
    expect(await page.locator(".u-legend").count()).toBe(0);
    expect(await page.locator(".chart-legend").first().locator("li").allTextContents()).toEqual([
      "Allow",
      "Deny",
      "Require attestation",
    ]);
    // One unit per chart, named on the table as on the axis; the span is the data's.
    const latency = page.locator(".chart-figure", {
      has: page.locator("figcaption", { hasText: /^Latency$/ }),
    });
    expect(await latency.locator("thead th").allTextContents()).toEqual([
      "Bucket start",
      "p50 (ms)",
      "p95 (ms)",
      "p99 (ms)",
    ]);
    expect(await latency.locator(".chart-span").textContent()).toMatch(
      / to .+, in ms; a gap is a bucket with no sample\.$/,
    );
    // The decisions came within the last hour: one hourly bucket, not the whole day of empty hours.
    expect(await latency.locator("tbody tr").count()).toBeLessThanOrEqual(2);
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

  it("is usable with the keyboard alone: skip link, navigation, a review", async () => {
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

    // Into the review form: the first final decision (Allow), chosen with Space; the category follows it.
    await tabTo((a) => a.tag === "INPUT");
    await page.keyboard.press("Space");
    expect(await page.getByRole("radio", { name: "Allow" }).isChecked()).toBe(true);
    await tabTo((a) => a.tag === "BUTTON" && a.text === "Submit review");
    await page.keyboard.press("Enter");
    await page.locator(".status-success").waitFor();
    expect(await page.locator(".status-success").textContent()).toMatch(
      /^Review saved: Allow \((Agree|Too strict)\)\.$/,
    );

    // Navigation links are reachable and mark the current section.
    await page.keyboard.press("Shift+Tab");
    await page.locator("nav.sections a", { hasText: "Operator" }).focus();
    await page.keyboard.press("Enter");
    await page.locator(".tier-card").first().waitFor();
    expect(await page.locator("nav.sections a[aria-current=page]").textContent()).toBe("Operator");
  });
});

describe.skipIf(!chromiumAvailable)("a long decision log and a long queue", () => {
  let sidecar: Sidecar;
  let page: Page;
  beforeAll(async () => {
    sidecar = await startSidecar({ mode: "advisory" });
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

  it("pages through the review queue too, and keeps a column sort from page to page", async () => {
    await goto(page, sidecar, "/queue?sort=request&dir=asc");
    await page.locator("table a.row-link").first().waitFor();
    expect(await page.locator("#queue-results").textContent()).toBe("60 waiting for review");
    expect(await page.locator("nav.pager span").textContent()).toBe("Showing 1–50 of 60");
    const first = await page.locator("table a.row-link").allTextContents();
    expect(first).toEqual([...first].sort());
    await page.getByRole("link", { name: "Older →" }).click();
    await expect.poll(() => page.locator("nav.pager span").textContent()).toBe("Showing 51–60 of 60");
    expect(new URL(page.url()).hash).toContain("sort=request");
    const second = await page.locator("table a.row-link").allTextContents();
    expect(second).toHaveLength(10);
    expect(new Set([...first, ...second]).size).toBe(60);
    await screenshot(page, "queue-page-2");
    expect(await axeViolations(page), "queue-page-2").toEqual([]);
  });
});

describe.skipIf(!chromiumAvailable)("shadow mode: mismatches", () => {
  let sidecar: Sidecar;
  let page: Page;
  beforeAll(async () => {
    sidecar = await startSidecar({ mode: "shadow" });
    // The caller's engine allowed what the advisor denies; another request where both agree.
    await sidecar.advise({
      request: { ...hostileDeploy, details: "routine" },
      control: { decision: "allow" },
    });
    await sidecar.advise({ request: readDocs, control: { decision: "allow" } });
    // In shadow mode with a control the advice is decided and logged after the answer.
    for (let i = 0; i < 100 && (await sidecar.service.ctx.store.count({})) < 2; i++)
      await new Promise((r) => setTimeout(r, 50));
    page = await openPage(browser, errors);
  });
  afterAll(async () => {
    await page?.context().close();
    await sidecar?.close();
  });

  it("lists the shadow mismatches side by side, and the log highlights the same row", async () => {
    await goto(page, sidecar, "/mismatches");
    await page.locator("table").waitFor();
    expect(await page.locator("#mm-results").textContent()).toBe("1 shadow mismatch");
    const headers = await page.locator("thead th").allTextContents();
    const cells = await page.locator("tbody tr").first().locator("td").allTextContents();
    expect(cells[headers.indexOf("Request")]).toBe("deploy_service by user:mallory");
    expect(cells[headers.indexOf("Control")]).toBe("Allow ≠ advice");
    expect(cells[headers.indexOf("Advice")]).toBe("Deny");
    await screenshot(page, "mismatches");
    expect(await axeViolations(page), "mismatches").toEqual([]);

    await goto(page, sidecar, "/log");
    await page.locator("tbody tr").nth(1).waitFor();
    expect(await page.locator("tbody tr.differs").count()).toBe(1);
    expect(await page.locator("tbody tr.differs a").textContent()).toBe("deploy_service by user:mallory");
  });
});

describe.skipIf(!chromiumAvailable)("a review that rolls its tier back", () => {
  let sidecar: Sidecar;
  let page: Page;
  let id: string;
  beforeAll(async () => {
    sidecar = await startSidecar({ mode: "enforce" });
    id = (await sidecar.advise(trustedDeploy)).decisionId;
    page = await openPage(browser, errors);
  });
  afterAll(async () => {
    await page?.context().close();
    await sidecar?.close();
  });

  it("says so on the page: a wrong allow at high risk moved the tier back to shadow", async () => {
    await goto(page, sidecar, `/decisions/${id}`);
    await page.locator(".review-form").waitFor();
    expect(await page.locator(".rec-line").textContent()).toBe("Advisor recommends: ALLOW");
    await page.getByRole("radio", { name: "Deny" }).check();
    expect(await page.getByRole("radio", { name: "Too permissive" }).isChecked()).toBe(true);
    await page.getByRole("button", { name: "Submit review" }).click();
    const warn = page.locator(".saved .status-warn");
    await warn.waitFor();
    expect(await warn.textContent()).toMatch(
      /^This review rolled the deploy prod tier back from enforce to shadow at once: .+\. Callers now apply their own decisions/,
    );
    await screenshot(page, "detail-rollback");
    expect(await axeViolations(page), "detail-rollback").toEqual([]);
    const rollout = (await (await fetch(`${sidecar.url}/v1/rollout`)).json()) as {
      tiers: { tier: string; mode: string }[];
    };
    expect(rollout.tiers.find((t) => t.tier === "deploy_prod")?.mode).toBe("shadow");
  });
});

describe.skipIf(!chromiumAvailable)("a decision from the synthetic model", () => {
  let sidecar: Sidecar;
  let page: Page;
  let id: string;
  beforeAll(async () => {
    sidecar = await startSidecar({
      mode: "advisory",
      config: (dir) => {
        const model = join(dir, "tiny.gguf");
        makeModel({ out: model, preset: "tiny" });
        return { engine: "hybrid", model, threads: 1, sequences: 1, deadlineMs: 30_000 };
      },
    });
    id = (await sidecar.advise(readDocs)).decisionId;
    page = await openPage(browser, errors);
  }, 120_000);
  afterAll(async () => {
    await page?.context().close();
    await sidecar?.close();
  });

  it("says the model is synthetic next to the model and above the advice, and on the operator page", async () => {
    await goto(page, sidecar, `/decisions/${id}`);
    await page.locator(".recommendation").waitFor();
    expect(await factValue(page, "Model")).toMatch(
      /tiny\.gguf.*: synthetic model \(random weights, its answers are noise\)$/,
    );
    expect(await page.locator(".recommendation .note.synthetic").textContent()).toContain(
      "Decided with a synthetic model (random weights, for tests)",
    );
    await screenshot(page, "detail-synthetic");
    expect(await axeViolations(page), "detail-synthetic").toEqual([]);
    await goto(page, sidecar, "/operator");
    await page.locator(".tier-card").first().waitFor();
    expect(await factValue(page, "Model")).toMatch(/: synthetic model, random weights$/);
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
