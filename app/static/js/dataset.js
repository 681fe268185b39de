// The data panel: a generated set or an uploaded CSV, drawn as a scatter.

import { api } from "./api.js";
import { drawScatter } from "./plots.js";
import { MULTICLASS_GENERATORS } from "./state.js";

const REGENERATE_DELAY_MS = 350;

function generateKey(config) {
  const { kind, classes, noise, samples, test, dseed } = config;
  const n = MULTICLASS_GENERATORS.includes(kind) ? classes : 2;
  return JSON.stringify([kind, n, noise, samples, test, dseed]);
}

function describe(row) {
  const classes = row.classes ? `, classes ${row.classes.join(" / ")}` : "";
  return `${row.name}: ${row.n_samples} samples (${row.n_train} train, ${row.n_test} test), `
    + `${row.n_features} features, ${row.task}${classes}.`;
}

/**
 * Wire the data panel. `onChange()` runs after the configuration changed; `report` has
 * `status(text)` and `error(err)`; `onDataset(row)` runs when a new dataset is shown.
 */
export function createDatasetPanel({ config, onChange, report, onDataset }) {
  const form = document.getElementById("dataset-form");
  const field = (id) => document.getElementById(id);
  const canvas = field("scatter");
  const summary = field("dataset-summary");
  let shown = null; // {key, row, data}
  let pending = null; // the latest request: {key, promise}
  let disposable = null; // a generated set no model uses yet, deleted when replaced
  let timer = null;

  function fillForm() {
    form.querySelector(`input[name=source][value=${config.source}]`).checked = true;
    for (const id of ["kind", "classes", "noise", "samples", "dseed", "test"]) {
      field(id).value = String(config[id]);
    }
    field("noise-out").value = String(config.noise);
    field("test-out").value = String(config.test);
    showSourceFields();
  }

  function showSourceFields() {
    const upload = config.source === "upload";
    field("generate-fields").hidden = upload;
    field("upload-fields").hidden = !upload;
    field("classes").disabled = !MULTICLASS_GENERATORS.includes(config.kind);
  }

  function readForm() {
    config.source = form.querySelector("input[name=source]:checked").value;
    config.kind = field("kind").value;
    for (const id of ["classes", "noise", "samples", "dseed", "test"]) {
      const value = Number(field(id).value);
      if (Number.isInteger(value) && field(id).checkValidity()) config[id] = value;
    }
    field("noise-out").value = String(config.noise);
    field("test-out").value = String(config.test);
    showSourceFields();
  }

  function keyOf() {
    return config.source === "upload" ? config.dataset : generateKey(config);
  }

  async function fetchDataset(key) {
    let row;
    if (config.source === "upload") {
      row = await api("GET", `/v1/datasets/${config.dataset}`);
    } else {
      const body = {
        kind: config.kind,
        n_samples: config.samples,
        noise: config.noise / 100,
        seed: config.dseed,
        test_fraction: config.test / 100,
      };
      if (MULTICLASS_GENERATORS.includes(config.kind)) body.n_classes = config.classes;
      row = await api("POST", "/v1/datasets/generate", { json: body });
    }
    const data = row.n_features === 2 ? await api("GET", `/v1/datasets/${row.id}/data`) : null;
    return { key, row, data, generated: config.source !== "upload" };
  }

  function show(result) {
    if (disposable && disposable !== result.row.id) {
      // Superseded before any model used it: tidy up (a failure here harms nothing).
      api("DELETE", `/v1/datasets/${disposable}`).catch(() => {});
    }
    disposable = result.generated ? result.row.id : null;
    shown = result;
    summary.textContent = describe(result.row);
    if (result.data) {
      canvas.hidden = false;
      drawScatter(canvas, result.data, result.row.classes);
      canvas.setAttribute("aria-label", `Scatter plot of ${describe(result.row)}`);
    } else {
      canvas.hidden = true;
    }
    onDataset(result.row);
  }

  /** The dataset of the current configuration, made or fetched if it is not shown yet. */
  function ensure() {
    const key = keyOf();
    if (!key) return Promise.reject(new Error("upload a CSV file first"));
    if (shown?.key === key) return Promise.resolve(shown);
    if (pending?.key === key) return pending.promise;
    const promise = fetchDataset(key).then((result) => {
      if (pending?.key === key) {
        pending = null;
        show(result);
      }
      return result;
    });
    pending = { key, promise };
    promise.catch(() => {
      if (pending?.key === key) pending = null;
    });
    return promise;
  }

  function refresh() {
    ensure().catch((error) => report.error(error));
  }

  async function upload() {
    const file = field("csv-file").files[0];
    if (!file) {
      report.error(new Error("choose a CSV file first"));
      return;
    }
    const body = new FormData();
    body.append("file", file);
    if (field("target").value.trim()) body.append("target", field("target").value.trim());
    body.append("test_fraction", String(config.test / 100));
    body.append("seed", String(config.dseed));
    report.status(`Uploading ${file.name}…`);
    try {
      const row = await api("POST", "/v1/datasets/upload", { form: body });
      config.dataset = row.id;
      onChange();
      await ensure();
      report.status(`Uploaded ${file.name}.`);
    } catch (error) {
      report.error(error);
    }
  }

  form.addEventListener("input", () => {
    readForm();
    onChange();
    clearTimeout(timer);
    if (config.source === "generate") timer = setTimeout(refresh, REGENERATE_DELAY_MS);
    else if (config.dataset) refresh();
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  field("upload").addEventListener("click", upload);
  window.addEventListener("resize", () => {
    if (shown?.data) drawScatter(canvas, shown.data, shown.row.classes);
  });

  fillForm();
  return {
    ensure,
    refresh,
    current: () => shown,
    /** A model now uses the shown set, so it must be kept. */
    keep: () => {
      disposable = null;
    },
  };
}
