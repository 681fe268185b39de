// The training panel: hyperparameters, start and cancel, progress with ETA, the live cost curve
// and the final metrics.

import { ApiError, api } from "./api.js";
import { drawCurve } from "./plots.js";
import { evaluateModel, showMetrics } from "./metrics.js";
import { watchJob } from "./watch.js";

const FIELDS = {
  lr: { parse: Number, ok: (v) => Number.isFinite(v) && v > 0 },
  iter: { parse: Number, ok: (v) => Number.isInteger(v) && v >= 1 },
  batch: { parse: Number, ok: (v) => Number.isInteger(v) && v >= 0 },
  opt: { parse: String, ok: () => true },
  l2: { parse: Number, ok: (v) => Number.isFinite(v) && v >= 0 },
};

function seconds(value) {
  if (!Number.isFinite(value)) return "";
  if (value < 1) return "under a second";
  if (value < 90) return `about ${Math.round(value)} s`;
  return `about ${Math.round(value / 60)} min`;
}

/** A 422 naming the field `derived_features`: the service has no derived input features. */
export function refusesDerivedFeatures(error) {
  return error instanceof ApiError && error.status === 422
    && (error.fields ?? []).some((f) => String(f.field ?? "").includes("derived_features"));
}

/**
 * Wire the training panel; `onTrained(model, job)` runs when a job has succeeded, `onJob(job,
 * model, row)` when one was submitted; `features` knows whether derived features are sent.
 */
export function createTrainingPanel({
  config, report, dataset, network, onChange, onTrained, onJob = () => {}, features = null,
}) {
  const form = document.getElementById("training-form");
  const trainButton = document.getElementById("train");
  const cancelButton = document.getElementById("cancel");
  const progress = document.getElementById("progress");
  const progressText = document.getElementById("progress-text");
  const curve = document.getElementById("curve");
  const metrics = document.getElementById("metrics");
  let points = [];
  let nIter = config.iter;
  let running = null; // {job, cancelRequested}
  const logScale = document.getElementById("logy");
  const draw = () => drawCurve(curve, points, nIter, { logY: config.logy === 1 });

  for (const [id, spec] of Object.entries(FIELDS)) {
    const input = document.getElementById(id);
    input.value = String(config[id]);
    input.addEventListener("input", () => {
      const value = spec.parse(input.value);
      if (input.value !== "" && spec.ok(value)) {
        config[id] = value;
        onChange();
      }
    });
  }
  form.addEventListener("submit", (event) => event.preventDefault());
  logScale.checked = config.logy === 1;
  logScale.addEventListener("change", () => {
    config.logy = logScale.checked ? 1 : 0;
    onChange();
    draw();
  });

  function trainBody(row) {
    const body = {
      dataset_id: row.id,
      n_iter: config.iter,
      learning_rate: config.lr,
      optimizer: config.opt,
      l2: config.l2,
    };
    if (config.batch > 0) body.batch_size = config.batch;
    // The held-out rows give the validation curve drawn next to the training cost.
    if (row.n_test > 0) body.validation = "test";
    return body;
  }

  function onProgress(p) {
    if (!p) return;
    nIter = p.n_iter ?? nIter;
    const last = points[points.length - 1];
    if (Number.isFinite(p.cost) && (!last || p.iteration > last.iteration)) {
      points.push({ iteration: p.iteration, cost: p.cost, validation: p.val_cost ?? NaN });
      draw();
      // How many points arrived while training ran (readable by tests and tools).
      curve.dataset.livePoints = String(points.length);
    }
    progress.value = Math.min(1, p.fraction ?? p.iteration / nIter);
    const cost = Number.isFinite(p.cost) ? ` · cost ${p.cost.toFixed(4)}` : "";
    const eta = p.eta_s != null ? ` · ${seconds(p.eta_s)} left` : "";
    progressText.textContent = `Iteration ${p.iteration} of ${nIter}${cost}${eta}`;
  }

  async function fullCurve(job) {
    try {
      const history = await api("GET", `/v1/jobs/${job.id}/history`);
      if (history.costs.length === 0) return;
      const validation = new Map(history.val_iterations.map((it, i) => [it, history.val_costs[i]]));
      points = history.iterations.map((iteration, i) => ({
        iteration,
        cost: history.costs[i],
        validation: validation.get(iteration) ?? NaN,
      }));
      draw();
    } catch {
      // The live points already drawn stay; the full history only refines them.
    }
  }

  async function finished(job, model, row) {
    running = null;
    trainButton.disabled = false;
    cancelButton.disabled = true;
    const words = {
      succeeded: "Training finished.",
      cancelled: "Training cancelled.",
      failed: `Training failed: ${job.error?.detail ?? job.error?.message ?? "unknown error"}.`,
    };
    progressText.textContent = words[job.status] ?? `Training ended (${job.status}).`;
    report.status(progressText.textContent);
    if (job.status !== "succeeded") return;
    progress.value = 1;
    try {
      showMetrics(metrics, await evaluateModel(model, row, job));
    } catch (error) {
      // The model is trained and usable even when scoring it failed: say so, carry on.
      report.error(error);
    }
  }

  async function createModel(row) {
    const derived = features?.derivedSupported() ?? true;
    try {
      return await api("POST", "/v1/models", { json: network.modelBody(row, { derived }) });
    } catch (error) {
      if (!derived || !refusesDerivedFeatures(error)) throw error;
      // Feature detection: this service takes no derived features; train on x1 and x2.
      features?.noDerivedFeatures();
      return api("POST", "/v1/models", { json: network.modelBody(row, { derived: false }) });
    }
  }

  async function start() {
    report.clearError();
    trainButton.disabled = true;
    cancelButton.disabled = false;
    points = [];
    curve.dataset.livePoints = "0";
    nIter = config.iter;
    progress.value = 0;
    metrics.replaceChildren();
    draw();
    running = { job: null, cancelRequested: false };
    try {
      progressText.textContent = "Preparing the dataset…";
      const { row } = await dataset.ensure();
      progressText.textContent = "Creating the network…";
      const model = await createModel(row);
      dataset.keep();
      progressText.textContent = "Queued…";
      const job = await api("POST", `/v1/models/${model.id}/train`, { json: trainBody(row) });
      running.job = job;
      onJob(job, model, row);
      if (running.cancelRequested) await cancel();
      const final = await watchJob(job, onProgress);
      await fullCurve(final);
      const trained = await api("GET", `/v1/models/${model.id}`);
      await finished(final, trained, row);
      if (final.status === "succeeded") onTrained(trained, final);
    } catch (error) {
      running = null;
      trainButton.disabled = false;
      cancelButton.disabled = true;
      progressText.textContent = "Not running.";
      report.error(error);
    }
  }

  async function cancel() {
    if (!running) return;
    cancelButton.disabled = true;
    if (!running.job) {
      // Not submitted yet: start() cancels as soon as the job exists.
      running.cancelRequested = true;
      return;
    }
    try {
      await api("POST", `/v1/jobs/${running.job.id}/cancel`);
      progressText.textContent = "Cancelling…";
    } catch (error) {
      report.error(error);
    }
  }

  trainButton.addEventListener("click", start);
  cancelButton.addEventListener("click", cancel);
  window.addEventListener("resize", draw);
  trainButton.disabled = true;
  draw();
  return {
    start,
    /** Allow training once the service answered. */
    enable() {
      if (!running) trainButton.disabled = false;
    },
  };
}
