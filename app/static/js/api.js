// Calls to annserve's public /v1 API: the API key, problem+json errors in plain words, and the
// server-sent event streams of training jobs.

const KEY_STORAGE = "annserve-api-key";

let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? "";

/** Remember the API key for this tab (sessionStorage: gone when the tab closes). */
export function setApiKey(key) {
  apiKey = key.trim();
  if (apiKey) sessionStorage.setItem(KEY_STORAGE, apiKey);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export function hasApiKey() {
  return apiKey !== "";
}

/** A failed call: the HTTP status, the problem's stable code, its detail and bad fields. */
export class ApiError extends Error {
  constructor(status, code, detail, fields = []) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fields = fields;
  }
}

function headers(extra = {}) {
  const result = { ...extra };
  if (apiKey) result.Authorization = `Bearer ${apiKey}`;
  return result;
}

async function problemFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's HTML page, say): fall back to the status line below.
  }
  const code = body?.code ?? `http_${response.status}`;
  const detail = body?.detail ?? response.statusText ?? "request failed";
  return new ApiError(response.status, code, detail, body?.errors ?? []);
}

/**
 * One API call. `json` is sent as a JSON body, `form` as multipart; the answer is parsed as JSON,
 * or returned as a Blob (an image) when `as` is "blob" or as an ArrayBuffer when `as` is
 * "arrayBuffer" (asking for application/octet-stream); 204 gives null. Failures throw an
 * ApiError.
 */
export async function api(method, path, { json, form, as = "json", signal } = {}) {
  const init = { method, signal, headers: headers({ Accept: "application/json" }) };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  if (as === "blob") init.headers.Accept = "image/png";
  if (as === "arrayBuffer") init.headers.Accept = "application/octet-stream";
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "the service could not be reached");
  }
  if (!response.ok) throw await problemFrom(response);
  if (response.status === 204) return null;
  if (as === "blob") return response.blob();
  return as === "arrayBuffer" ? response.arrayBuffer() : response.json();
}

function fieldName(field) {
  // "body.hidden_layers.0.units" reads better as "hidden_layers 0 units".
  return field.replace(/^(body|query|path)\./, "").replaceAll(".", " ").replaceAll("_", " ");
}

/** What went wrong, in words a person can act on. */
export function plainWords(error) {
  if (!(error instanceof ApiError)) {
    // Plain Errors are the page's own messages; anything else is a bug worth naming as such.
    if (error?.name === "Error") return `${capitalize(error.message)}.`;
    return `Something went wrong: ${error?.message ?? error}`;
  }
  switch (error.code) {
    case "missing_api_key":
      return "This service needs an API key: enter it in the API key box.";
    case "invalid_api_key":
      return "The API key was not accepted: check it and enter it again.";
    case "network_error":
      return "The service could not be reached. Is it running?";
    case "validation_error": {
      const parts = error.fields.slice(0, 4).map((f) => `${fieldName(f.field)}: ${f.message}`);
      return `Some settings are not valid. ${parts.join("; ")}.`;
    }
    case "payload_too_large":
      return "The file is too large for this service.";
    default:
      return `${capitalize(error.detail)}.`.replace(/\.\.$/, ".");
  }
}

function capitalize(text) {
  const value = String(text ?? "");
  return value.charAt(0).toUpperCase() + value.slice(1);
}

/** Split a text/event-stream chunk sequence into {event, data, id} messages. */
export function parseEventStream() {
  let buffer = "";
  return (chunk) => {
    buffer += chunk;
    const messages = [];
    let end = buffer.search(/\r?\n\r?\n/);
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      const message = { event: "message", data: "", id: null };
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") message.event = value;
        else if (field === "data") data.push(value);
        else if (field === "id") message.id = value;
      }
      message.data = data.join("\n");
      if (data.length > 0) messages.push(message);
      end = buffer.search(/\r?\n\r?\n/);
    }
    return messages;
  };
}

/**
 * Read a server-sent event stream with fetch, so the API key can travel in a header (an
 * EventSource cannot send one). Calls onMessage({event, data, id}) until the stream ends.
 */
export async function fetchEvents(path, onMessage, signal) {
  let response;
  try {
    response = await fetch(path, {
      headers: headers({ Accept: "text/event-stream" }),
      signal,
      cache: "no-store",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "the service could not be reached");
  }
  if (!response.ok) throw await problemFrom(response);
  if (!response.body) throw new ApiError(0, "no_stream", "this browser cannot read streams");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parse = parseEventStream();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    for (const message of parse(value)) {
      if (onMessage(message) === false) {
        await reader.cancel();
        return;
      }
    }
  }
}

/**
 * The same with the browser's EventSource (used when no key is needed). `names` are the event
 * types to listen for; resolves when onMessage returns false, rejects when the stream fails.
 */
export function eventSourceEvents(path, names, onMessage, signal) {
  return new Promise((resolve, reject) => {
    const source = new EventSource(path);
    const close = () => {
      source.close();
      resolve();
    };
    signal?.addEventListener("abort", close);
    for (const name of names) {
      source.addEventListener(name, (event) => {
        const message = { event: name, data: event.data, id: event.lastEventId || null };
        if (onMessage(message) === false) close();
      });
    }
    source.onerror = () => {
      // The browser would retry on its own, possibly forever; polling is the surer way on.
      source.close();
      reject(new ApiError(0, "stream_closed", "the event stream closed"));
    };
  });
}
