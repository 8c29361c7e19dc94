/// <reference lib="dom" />
/**
 * Small DOM helpers of the page: building elements, the `#error` banner, fetching run files
 * with errors that name the URL.
 *
 * @module
 */

/** Attributes and properties of {@linkcode h}: strings become attributes, functions listeners. */
export type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

/**
 * Creates an element: `h("a", { href: "#runs" }, "Runs")`. `on<event>` keys add listeners,
 * `true` sets a boolean attribute, `false`/`undefined` leave it out.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) element.append(child);
  return element;
}

/** The element with `id`, which the page's HTML must hold. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`The page lacks the element #${id}`);
  return element as T;
}

/** Shows `error` in `#error` (one message per line, newest last). */
export function showError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const banner = byId("error");
  banner.append(h("p", {}, message));
  banner.hidden = false;
}

/** Empties and hides `#error`. */
export function clearError(): void {
  const banner = byId("error");
  banner.replaceChildren();
  banner.hidden = true;
}

/** A request answered with an error status (`status`, such as 404). */
export class HttpError extends Error {
  constructor(readonly url: string, readonly status: number, statusText: string) {
    super(`Cannot load ${url}: HTTP ${status} ${statusText}`.trim());
    this.name = "HttpError";
  }
}

/** The text at `url`; a failed request throws an error naming the URL and the HTTP status. */
export async function fetchText(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`Cannot load ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new HttpError(url, response.status, response.statusText);
  }
  return await response.text();
}

/** The JSON at `url`; invalid JSON throws an error naming the URL. */
export async function fetchJson(url: string): Promise<unknown> {
  const text = await fetchText(url);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${url} is not valid JSON`);
  }
}
