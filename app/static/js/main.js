// The playground page: read the configuration from the URL, wire the panels, keep the URL in step.

import { ApiError, api, hasApiKey, plainWords, setApiKey } from "./api.js";
import { createComparePanel } from "./compare.js";
import { createDatasetPanel } from "./dataset.js";
import { createLessons } from "./lessons.js";
import { createLivePanel } from "./live.js";
import { createNetworkPanel } from "./network.js";
import { createResultsPanel } from "./results.js";
import { fromQuery, parseLayers, saveToUrl, useActivations } from "./state.js";
import { createTabs } from "./tabs.js";
import { createTrainingPanel } from "./training.js";

const config = fromQuery(window.location.search);
// Layers of the link that the built-in activation list refused: they may be known to the service.
const linkLayers = new URLSearchParams(window.location.search).get("layers");
let linkLayersPending = linkLayers !== null && parseLayers(linkLayers) === null;
const statusBox = document.getElementById("status");
const errorBox = document.getElementById("error");
const keyPanel = document.getElementById("key-panel");

const report = {
  status(text) {
    statusBox.textContent = text;
  },
  error(error) {
    if (error?.name === "AbortError") return;
    errorBox.textContent = plainWords(error);
    errorBox.hidden = false;
    if (error instanceof ApiError && error.status === 401) showKeyPanel();
  },
  clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  },
};

function showKeyPanel() {
  keyPanel.hidden = false;
  document.getElementById("api-key").focus();
}

function configChanged() {
  saveToUrl(config);
}

const network = createNetworkPanel({ config, onChange: configChanged });
const results = createResultsPanel({ report });
const dataset = createDatasetPanel({
  config,
  report,
  onChange() {
    network.expectGenerator();
    configChanged();
  },
  onDataset(row) {
    report.clearError();
    network.setDataset(row);
    results.setDataset(row);
  },
});
const live = createLivePanel({
  config,
  report,
  dataset,
  train: () => training.start(),
  onChange: configChanged,
});
const training = createTrainingPanel({
  config,
  report,
  dataset,
  network,
  onChange: configChanged,
  onTrained: (model) => results.showModel(model),
  onJob: (job, model, row) => live.jobStarted(job, model, row),
  features: live,
});
createComparePanel({
  config,
  report,
  dataset,
  onChange: configChanged,
  async chooseCircle() {
    if (config.source === "generate" && config.kind === "circle") return;
    document.querySelector("input[name=source][value=generate]").checked = true;
    document.getElementById("kind").value = "circle";
    document.getElementById("dataset-form").dispatchEvent(new Event("input"));
  },
});
const lessons = createLessons({ report });
const tabs = createTabs({
  config,
  onChange: configChanged,
  onShow(name) {
    if (name === "lessons") lessons.show();
  },
});

/** Whether POST /v1/models takes derived input features, from the service's OpenAPI schema. */
async function detectDerivedFeatures() {
  try {
    const response = await fetch("/openapi.json");
    if (!response.ok) return;
    const schema = await response.json();
    const fields = schema?.components?.schemas?.ModelCreate?.properties;
    if (fields && !("derived_features" in fields)) live.noDerivedFeatures();
  } catch {
    // Unknown: the toggles stay, and a 422 for the field hides them when it comes.
  }
}

document.getElementById("copy-link").addEventListener("click", async () => {
  saveToUrl(config);
  try {
    await navigator.clipboard.writeText(window.location.href);
    report.status("Link copied: it reproduces this setup.");
  } catch {
    report.status(`Copy this link: ${window.location.href}`);
  }
});

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setApiKey(document.getElementById("api-key").value);
  start();
});

/** The service's activation lists in the form (the built-in ones stay if it cannot tell). */
async function loadActivations() {
  try {
    if (!useActivations(await api("GET", "/v1/activations"))) return;
  } catch {
    return;
  }
  const layers = linkLayersPending ? parseLayers(linkLayers) : null;
  if (layers !== null) config.layers = layers;
  linkLayersPending = false;
  network.refreshActivations();
  configChanged();
}

/** Check access (the key panel shows only when the service asks for a key), then load. */
async function start() {
  try {
    await api("GET", "/v1/models?limit=1");
  } catch (error) {
    report.error(error);
    return;
  }
  await loadActivations();
  report.clearError();
  keyPanel.hidden = !hasApiKey();
  report.status("Connected to annserve.");
  detectDerivedFeatures();
  training.enable();
  results.refreshModels();
  if (config.source === "generate" || config.dataset) dataset.refresh();
}

saveToUrl(config);
tabs.select(config.tab);
start();
