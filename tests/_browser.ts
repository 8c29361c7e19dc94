/**
 * A small Chrome DevTools protocol client over Deno's built-in `WebSocket`, for the browser
 * test: finds Debian's `chromium-headless-shell` (or `chromium`), starts it headless, drives
 * one page (navigate, evaluate, screenshot) and collects the page's console errors. Every wait
 * has a time limit and fails with a message saying what it waited for.
 *
 * @module
 */

/** Where Debian puts the browsers (the `/usr/bin` entries are shell wrappers of these). */
const CANDIDATES = [
  "/usr/lib/chromium/chromium-headless-shell",
  "/usr/bin/chromium-headless-shell",
  "/usr/lib/chromium/chromium",
  "/usr/bin/chromium",
];

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * The real binary behind a Debian wrapper script (`/usr/bin/chromium-headless-shell` runs
 * `/usr/lib/chromium/chromium-headless-shell "$@"`), so that killing the process we started
 * kills the browser, not a shell; `path` itself when it is no script.
 */
function unwrap(path: string): string {
  let head: string;
  try {
    const file = Deno.openSync(path);
    try {
      const buffer = new Uint8Array(4096);
      const n = file.readSync(buffer) ?? 0;
      head = new TextDecoder().decode(buffer.subarray(0, n));
    } finally {
      file.close();
    }
  } catch {
    return path;
  }
  if (!head.startsWith("#!")) return path;
  for (const match of head.matchAll(/(\/usr\/lib\/chromium\/[\w.-]+)/g)) {
    if (isFile(match[1])) return match[1];
  }
  return path;
}

/**
 * The path of a headless-capable Chromium: `$CHROMIUM_PATH` when set, else Debian's
 * `chromium-headless-shell`, else `chromium`; `undefined` when there is none.
 */
export function findChromium(): string | undefined {
  const fromEnv = Deno.env.get("CHROMIUM_PATH");
  if (fromEnv) return isFile(fromEnv) ? unwrap(fromEnv) : undefined;
  const path = CANDIDATES.find(isFile);
  return path === undefined ? undefined : unwrap(path);
}

/** Resolves `promise`, or rejects with `message` after `ms` milliseconds. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${message}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A protocol message from the browser. */
interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: string };
  sessionId?: string;
}

interface Pending {
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  method: string;
}

/** The subset of `Runtime.RemoteObject` and `ExceptionDetails` used in messages. */
interface ExceptionDetails {
  text?: string;
  exception?: { description?: string; value?: unknown };
  url?: string;
  lineNumber?: number;
}

/** One error the page reported. */
export interface ConsoleError {
  /** `console.error`, `exception` or `log` (a `Log.entryAdded` of level error). */
  kind: "console.error" | "exception" | "log";
  /** The message. */
  text: string;
  /** The resource's or script's URL, when known. */
  url?: string;
}

/** Options of {@linkcode launch}. */
export interface LaunchOptions {
  /** Viewport width, CSS pixels. @default 1280 */
  width?: number;
  /** Viewport height, CSS pixels. @default 900 */
  height?: number;
  /** The browser binary. @default {@linkcode findChromium}'s */
  executable?: string;
  /** Time limit of the start (process, DevTools URL, connection, first page). @default 15000 */
  startTimeoutMs?: number;
}

/** A running headless browser with one page attached. */
export interface Browser {
  /** Sends a protocol command to the page's session; rejects on a protocol error. */
  send(
    method: string,
    params?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /**
   * Evaluates `expression` in the page (promises awaited, the value returned as JSON);
   * throws the page's exception message when it throws or rejects.
   */
  evaluate<T = unknown>(expression: string, timeoutMs?: number): Promise<T>;
  /** Polls `expression` until it is truthy; fails after `timeoutMs` with `what`. */
  waitFor(expression: string, what: string, timeoutMs?: number): Promise<void>;
  /** Navigates; waits for the load event (not for a same-document hash change). */
  navigate(url: string, timeoutMs?: number): Promise<void>;
  /** Writes a PNG of the viewport to `path`. */
  screenshot(path: string): Promise<void>;
  /** Every error the page reported so far. */
  consoleErrors(): ConsoleError[];
  /** The last lines the browser wrote on stderr (for failure messages). */
  stderrTail(): string;
  /** Closes the browser, kills its process, removes its temporary profile. */
  close(): Promise<void>;
}

/** Starts a headless browser and attaches to a fresh page. */
export async function launch(options: LaunchOptions = {}): Promise<Browser> {
  const { width = 1280, height = 900, startTimeoutMs = 15_000 } = options;
  const executable = options.executable ?? findChromium();
  if (!executable) {
    throw new Error("No Chromium found: install chromium-headless-shell (or set CHROMIUM_PATH)");
  }
  const profile = await Deno.makeTempDir({ prefix: "maddpg-chromium-" });
  const child = new Deno.Command(executable, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-background-networking",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      `--window-size=${width},${height}`,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const status = child.status;
  let exited = false;
  status.then(() => exited = true);

  // stderr is read to its end (a full pipe would stall the browser); its tail is kept.
  const tail: string[] = [];
  const { promise: wsUrl, resolve: resolveUrl } = Promise.withResolvers<string>();
  const drained = (async () => {
    let pending = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        const match = line.match(/DevTools listening on (ws:\/\/\S+)/);
        if (match) resolveUrl(match[1]);
      }
    }
    if (pending) tail.push(pending);
  })().catch(() => {});
  const stderrTail = () => tail.join("\n");

  let socket: WebSocket | undefined;
  let closed = false;
  const cleanup = async () => {
    if (closed) return;
    closed = true;
    if (socket && socket.readyState === WebSocket.OPEN) {
      // A graceful exit first: the browser removes its own children.
      try {
        await withTimeout(sendRaw("Browser.close", {}, undefined), 2_000, "Browser.close");
      } catch {
        // killed below
      }
    }
    try {
      socket?.close();
    } catch {
      // already closed
    }
    if (!exited) {
      await withTimeout(status, 3_000, "browser exit").catch(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      });
    }
    await withTimeout(status, 5_000, "browser exit after SIGKILL").catch(() => {});
    await withTimeout(drained, 2_000, "browser stderr").catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };

  // The protocol connection.
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const listeners = new Set<(message: Message) => void>();
  const errors: ConsoleError[] = [];
  let sessionId: string | undefined;

  function sendRaw(
    method: string,
    params: Record<string, unknown>,
    session: string | undefined,
  ): Promise<Record<string, unknown>> {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`${method}: the DevTools connection is closed`));
    }
    const id = nextId++;
    const message: Message & { params: Record<string, unknown> } = { id, method, params };
    if (session) message.sessionId = session;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, method });
      socket!.send(JSON.stringify(message));
    });
  }

  const send = (method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000) => {
    const id = nextId;
    return withTimeout(sendRaw(method, params, sessionId), timeoutMs, `${method} reply`)
      .catch((error) => {
        pending.delete(id);
        throw error;
      });
  };

  /** The first event `method` (of our session) that `accept` takes, within `timeoutMs`. */
  function nextEvent(
    method: string,
    timeoutMs: number,
    accept: (params: Record<string, unknown>) => boolean = () => true,
  ): { promise: Promise<Record<string, unknown>>; cancel: () => void } {
    let listener: (message: Message) => void = () => {};
    const promise = new Promise<Record<string, unknown>>((resolve) => {
      listener = (message) => {
        if (message.method === method && message.sessionId === sessionId) {
          if (accept(message.params ?? {})) resolve(message.params ?? {});
        }
      };
      listeners.add(listener);
    });
    const cancel = () => listeners.delete(listener);
    return {
      promise: withTimeout(promise, timeoutMs, `waiting for ${method}`).finally(cancel),
      cancel,
    };
  }

  function record(message: Message): void {
    if (message.sessionId !== sessionId) return;
    const params = message.params ?? {};
    if (message.method === "Runtime.consoleAPICalled" && params.type === "error") {
      const args = (params.args ?? []) as { value?: unknown; description?: string }[];
      const text = args.map((a) => a.description ?? String(a.value)).join(" ");
      errors.push({ kind: "console.error", text });
    } else if (message.method === "Runtime.exceptionThrown") {
      const details = params.exceptionDetails as ExceptionDetails;
      errors.push({ kind: "exception", text: exceptionMessage(details), url: details.url });
    } else if (message.method === "Log.entryAdded") {
      const entry = params.entry as { level: string; text: string; url?: string };
      if (entry.level === "error") errors.push({ kind: "log", text: entry.text, url: entry.url });
    }
  }

  try {
    const url = await withTimeout(
      Promise.race([
        wsUrl,
        status.then((s) => {
          throw new Error(`the browser exited (code ${s.code}) before listening`);
        }),
      ]),
      startTimeoutMs,
      "the browser's 'DevTools listening on ws://…' line on stderr",
    ).catch((error) => {
      throw new Error(`${error.message}\n${executable} stderr:\n${stderrTail()}`);
    });
    socket = new WebSocket(url);
    const ws = socket;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = (e) => reject(new Error(`WebSocket ${url}: ${(e as ErrorEvent).message}`));
      }),
      startTimeoutMs,
      `connecting to ${url}`,
    );
    ws.onerror = () => {};
    ws.onclose = () => {
      for (const [id, p] of pending) {
        p.reject(new Error(`${p.method}: the DevTools connection closed`));
        pending.delete(id);
      }
    };
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data as string) as Message;
      if (message.id !== undefined) {
        const p = pending.get(message.id);
        if (!p) return;
        pending.delete(message.id);
        if (message.error) {
          const data = message.error.data ? ` (${message.error.data})` : "";
          p.reject(new Error(`${p.method}: ${message.error.message}${data}`));
        } else {
          p.resolve(message.result ?? {});
        }
        return;
      }
      record(message);
      for (const listener of [...listeners]) listener(message);
    };

    const start = (method: string, params: Record<string, unknown>) =>
      withTimeout(sendRaw(method, params, undefined), startTimeoutMs, `${method} reply`);
    const { targetId } = await start("Target.createTarget", { url: "about:blank" });
    ({ sessionId } = await start("Target.attachToTarget", { targetId, flatten: true }) as {
      sessionId: string;
    });
    await send("Page.enable");
    await send("Runtime.enable");
    await send("Log.enable");
    await send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
  } catch (error) {
    await cleanup();
    throw error;
  }

  const evaluate = async <T>(expression: string, timeoutMs = 30_000): Promise<T> => {
    const reply = await send(
      "Runtime.evaluate",
      { expression, awaitPromise: true, returnByValue: true },
      timeoutMs,
    ).catch((error) => {
      throw new Error(`${error.message} (evaluating ${short(expression)})`);
    });
    if (reply.exceptionDetails) {
      throw new Error(
        `${exceptionMessage(reply.exceptionDetails as ExceptionDetails)} (evaluating ${
          short(expression)
        })`,
      );
    }
    return (reply.result as { value?: T }).value as T;
  };

  return {
    send,
    evaluate,
    async waitFor(expression, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        try {
          if (await evaluate<boolean>(`Boolean(${expression})`, 5_000)) return;
        } catch (error) {
          last = error; // the page may be between documents
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const why = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    },
    async navigate(url, timeoutMs = 15_000) {
      const load = nextEvent("Page.loadEventFired", timeoutMs);
      let reply: Record<string, unknown>;
      try {
        reply = await send("Page.navigate", { url }, timeoutMs);
      } catch (error) {
        load.cancel();
        load.promise.catch(() => {});
        throw error;
      }
      if (reply.errorText) {
        load.cancel();
        load.promise.catch(() => {});
        throw new Error(`Navigating to ${url}: ${reply.errorText}`);
      }
      if (reply.loaderId === undefined) {
        // A same-document navigation (a hash change): no load event follows.
        load.cancel();
        load.promise.catch(() => {});
        return;
      }
      await load.promise.catch((error) => {
        throw new Error(`${error.message} after navigating to ${url}`);
      });
    },
    async screenshot(path) {
      const { data } = await send("Page.captureScreenshot", { format: "png" }, 20_000);
      const bytes = Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0));
      await Deno.writeFile(path, bytes);
    },
    consoleErrors: () => [...errors],
    stderrTail,
    close: cleanup,
  };
}

function exceptionMessage(details: ExceptionDetails): string {
  const exception = details.exception;
  if (exception?.description) return exception.description.split("\n")[0];
  if (exception && "value" in exception) return `Uncaught ${String(exception.value)}`;
  return details.text ?? "unknown exception";
}

function short(expression: string): string {
  const flat = expression.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? flat.slice(0, 77) + "..." : flat;
}
