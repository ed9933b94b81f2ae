/**
 * The reviewer token. Kept in sessionStorage only: it goes away with the tab, and never reaches
 * localStorage or a cookie, so it is not sent anywhere the console does not send it itself.
 */
const KEY = "policy-advisor.reviewerToken";

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

type TokenListener = (reason: "missing" | "refused") => void;
let onTokenNeeded: TokenListener = () => {};

/** The shell registers how to ask for a token; the API calls it on 401/403. */
export function whenTokenNeeded(listener: TokenListener): void {
  onTokenNeeded = listener;
}

export function requestToken(reason: "missing" | "refused"): void {
  onTokenNeeded(reason);
}
