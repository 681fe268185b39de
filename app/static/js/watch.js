// Follow a training job to its end: its server-sent event stream when possible, polling
// GET /v1/jobs/{id} otherwise.

import { api, eventSourceEvents, fetchEvents, hasApiKey } from "./api.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 400;
const CLOSING_EVENTS = new Set(["done", "end"]);
export const STREAM_EVENTS = ["progress", "state", "status", "done", "end", "error", "message"];

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => {
    clearTimeout(timer);
    reject(new DOMException("aborted", "AbortError"));
  });
});

/** The progress object inside an event's data, whatever the envelope. */
function progressOf(data) {
  if (data == null || typeof data !== "object") return null;
  if (Number.isFinite(data.iteration)) return data;
  if (data.progress && typeof data.progress === "object") return data.progress;
  return null;
}

function statusOf(data) {
  if (data == null || typeof data !== "object") return null;
  return data.status ?? data.job?.status ?? null;
}

/** Read the stream until a terminal status; false if the stream could not be used. */
async function stream(job, onProgress, signal) {
  let ended = false;
  const onMessage = (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return true;
    }
    onProgress(progressOf(data));
    if (TERMINAL.has(statusOf(data)) || CLOSING_EVENTS.has(message.event)) {
      ended = true;
      return false;
    }
    return true;
  };
  const path = `/v1/jobs/${job.id}/events`;
  try {
    // EventSource cannot send the Authorization header; fetch with a stream reader can.
    if (hasApiKey()) await fetchEvents(path, onMessage, signal);
    else await eventSourceEvents(path, STREAM_EVENTS, onMessage, signal);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    return false;
  }
  return ended;
}

/**
 * Follow `job` until it succeeds, fails or is cancelled, calling `onProgress(progress)` on the
 * way; resolves to the final job as GET /v1/jobs/{id} returns it.
 */
export async function watchJob(job, onProgress, signal) {
  await stream(job, onProgress, signal);
  // Whether the stream ended cleanly, broke or was never available, the job resource is the
  // truth: poll it until it is over.
  for (;;) {
    const current = await api("GET", `/v1/jobs/${job.id}`, { signal });
    onProgress(current.progress ?? null);
    if (TERMINAL.has(current.status)) return current;
    await sleep(POLL_MS, signal);
  }
}
