// Final scores of a trained model on its dataset's train and test rows (POST .../evaluate, or
// the training job's own scores for a model with a preprocessing stage).

import { api } from "./api.js";

const CLASSIFICATION = [
  ["accuracy", "accuracy", (v) => v.toFixed(3)],
  ["log_loss", "log loss", (v) => v.toFixed(4)],
];
const REGRESSION = [
  ["mse", "MSE", (v) => v.toPrecision(4)],
  ["rmse", "RMSE", (v) => v.toPrecision(4)],
  ["mae", "MAE", (v) => v.toPrecision(4)],
  ["r2", "R²", (v) => v.toFixed(3)],
];

/** Whether the model takes raw columns through a preprocessing stage (e.g. derived features). */
export function hasStage(model) {
  return Array.isArray(model?.architecture?.input_schema);
}

/**
 * Train and test reports of `model` on its dataset (test is null when nothing is held out).
 * The service scores a model with a preprocessing stage only in its training job, whose
 * validation rows are the test rows here: `job`'s result then gives both.
 */
export async function evaluateModel(model, datasetRow, job = null) {
  if (hasStage(model) && job?.result?.train) {
    const { train, validation } = job.result;
    return {
      train: { task: model.task, ...train },
      test: validation ? { task: model.task, ...validation } : null,
    };
  }
  const score = (split) => api("POST", `/v1/models/${model.id}/evaluate`, {
    json: { dataset_id: datasetRow.id, split },
  });
  const train = await score("train");
  const test = datasetRow.n_test > 0 ? await score("test") : null;
  return { train, test };
}

/** Fill the <dl> with "train accuracy 0.975", "test accuracy 0.962", ... */
export function showMetrics(list, { train, test }) {
  const rows = train.task === "regression" ? REGRESSION : CLASSIFICATION;
  const items = [];
  for (const [split, report] of [["train", train], ["test", test]]) {
    if (!report) continue;
    for (const [key, label, format] of rows) {
      const value = report[key];
      if (value == null || !Number.isFinite(value)) continue;
      const term = document.createElement("dt");
      term.textContent = `${split} ${label}`;
      const definition = document.createElement("dd");
      definition.textContent = format(value);
      definition.dataset.metric = `${split}-${key}`;
      items.push(term, definition);
    }
  }
  list.replaceChildren(...items);
}
