// The playground's whole configuration and its round trip through the page's URL.
//
// Every setting is a query parameter, so a copied link reproduces a setup. Values read from a
// URL are checked one by one: a bad or missing value falls back to its default instead of
// breaking the page. The API key is deliberately not part of the configuration.

export const GENERATORS = ["circle", "xor", "gauss", "spiral", "moons", "reg-plane", "reg-gauss"];
export const MULTICLASS_GENERATORS = ["gauss", "spiral"];
export const REGRESSION_GENERATORS = ["reg-plane", "reg-gauss"];
// The activations the service accepts: these until GET /v1/activations answers (useActivations).
export let HIDDEN_ACTIVATIONS = ["tanh", "sigmoid", "relu", "linear"];
export let OUTPUT_ACTIVATIONS = {
  binary: ["sigmoid"],
  multiclass: ["softmax"],
  regression: ["linear", "relu"],
};
export const INITS = ["glorot", "he", "auto"];
export const OPTIMIZERS = ["gd", "momentum", "adam"];
export const TABS = ["playground", "compare", "lessons"];
// Input features computed from x1 and x2 by the model's preprocessing, as the service names them.
export const DERIVED_FEATURES = ["x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];
export const MAX_LAYERS = 8;
export const MAX_UNITS = 64;
export const COMPARE_PRESETS = ["relu-linear", "deep-linear"];
export const MAX_COMPARE = 4;
const MAX_NAME = 60;

// The notes' network (2-4-1, tanh then sigmoid, Glorot) on the circle set.
export const DEFAULTS = Object.freeze({
  source: "generate",
  kind: "circle",
  classes: 2,
  noise: 10,
  samples: 400,
  test: 20,
  dseed: 0,
  dataset: "",
  layers: Object.freeze([Object.freeze({ units: 4, activation: "tanh" })]),
  output: "auto",
  init: "glorot",
  seed: 2,
  lr: 0.5,
  iter: 1000,
  batch: 0,
  opt: "gd",
  l2: 0,
  logy: 0,
  feat: Object.freeze([]),
  tab: "playground",
  // The Compare tab: its configurations (none: the notes' preset) and the preset they came from.
  cmp: Object.freeze([]),
  cmpset: "",
});

const DATASET_ID = /^ds_[0-9a-f]{16}$/;

function intIn(text, low, high, fallback) {
  if (text === null || text.trim() === "") return fallback;
  const value = Number(text);
  return Number.isInteger(value) && value >= low && value <= high ? value : fallback;
}

function numberIn(text, low, high, fallback) {
  if (text === null || text.trim() === "") return fallback;
  const value = Number(text);
  return Number.isFinite(value) && value >= low && value <= high ? value : fallback;
}

function oneOf(text, allowed, fallback) {
  return allowed.includes(text) ? text : fallback;
}

/** Hidden layers as written in a URL: "4:tanh,2:relu" ("" means no hidden layer). */
export function formatLayers(layers) {
  return layers.map((layer) => `${layer.units}:${layer.activation}`).join(",");
}

/** The inverse of formatLayers; null when the text is not a valid layer list. */
export function parseLayers(text) {
  if (text === "") return [];
  const layers = [];
  for (const part of text.split(",").slice(0, MAX_LAYERS + 1)) {
    const [units, activation] = part.split(":");
    const n = intIn(units, 1, MAX_UNITS, null);
    if (n === null || !HIDDEN_ACTIVATIONS.includes(activation)) return null;
    layers.push({ units: n, activation });
  }
  return layers.length > MAX_LAYERS ? null : layers;
}

/** Derived features as written in a URL ("x1^2,sin(x1)"); unknown names are dropped. */
export function parseFeatures(text) {
  if (!text) return [];
  const names = text.split(",");
  return DERIVED_FEATURES.filter((name) => names.includes(name));
}

/**
 * A Compare configuration as written in a URL: "layers;lr;iter;opt;seed;name" (the name last,
 * so it may hold any character). Null when a part is not valid.
 */
export function parseCompare(text) {
  const parts = text.split(";");
  if (parts.length < 6) return null;
  const [layers, lr, iter, opt, seed] = parts;
  const name = parts.slice(5).join(";").trim().slice(0, MAX_NAME);
  // The activations are checked when it trains: the service may know more than this list.
  const layerList = /^(\d{1,3}:[a-z0-9_]+(,\d{1,3}:[a-z0-9_]+){0,7})?$/;
  if (!layerList.test(layers) || name === "") return null;
  const config = {
    name, layers,
    lr: numberIn(lr, Number.MIN_VALUE, 100, null),
    iter: intIn(iter, 1, 1000000, null),
    opt: oneOf(opt, OPTIMIZERS, null),
    seed: intIn(seed, 0, 2147483647, null),
  };
  return Object.values(config).includes(null) ? null : config;
}

/** The inverse of parseCompare. */
export function formatCompare(c) {
  return [c.layers, c.lr, c.iter, c.opt, c.seed, c.name].join(";");
}

/** The task a generator's dataset has, known before the server makes it. */
export function generatorTask(kind, classes) {
  if (REGRESSION_GENERATORS.includes(kind)) return "regression";
  if (MULTICLASS_GENERATORS.includes(kind) && classes > 2) return "multiclass";
  return "binary";
}

/** A configuration from URL query parameters (a URLSearchParams or a query string). */
export function fromQuery(query) {
  const q = query instanceof URLSearchParams ? query : new URLSearchParams(query);
  const d = DEFAULTS;
  const get = (name) => q.get(name);
  const dataset = get("dataset") ?? "";
  const layers = q.has("layers") ? parseLayers(get("layers")) : null;
  return {
    source: oneOf(get("source"), ["generate", "upload"], d.source),
    kind: oneOf(get("kind"), GENERATORS, d.kind),
    classes: intIn(get("classes"), 2, 10, d.classes),
    noise: intIn(get("noise"), 0, 50, d.noise),
    samples: intIn(get("samples"), 10, 5000, d.samples),
    test: intIn(get("test"), 0, 90, d.test),
    dseed: intIn(get("dseed"), 0, 2147483647, d.dseed),
    dataset: DATASET_ID.test(dataset) ? dataset : "",
    layers: layers ?? d.layers.map((layer) => ({ ...layer })),
    output: get("output") ?? d.output,
    init: oneOf(get("init"), INITS, d.init),
    seed: intIn(get("seed"), 0, 2147483647, d.seed),
    lr: numberIn(get("lr"), Number.MIN_VALUE, 100, d.lr),
    iter: intIn(get("iter"), 1, 1000000, d.iter),
    batch: intIn(get("batch"), 0, 1000000, d.batch),
    opt: oneOf(get("opt"), OPTIMIZERS, d.opt),
    l2: numberIn(get("l2"), 0, 100, d.l2),
    logy: intIn(get("logy"), 0, 1, d.logy),
    feat: parseFeatures(get("feat")),
    tab: oneOf(get("tab"), TABS, d.tab),
    cmp: q.getAll("cmp").map(parseCompare).filter((c) => c !== null).slice(0, MAX_COMPARE),
    cmpset: oneOf(get("cmpset"), COMPARE_PRESETS, d.cmpset),
  };
}

/** URL query parameters of a configuration (every key, so a link never depends on defaults). */
export function toQuery(config) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(config)) {
    if (key === "layers") q.set(key, formatLayers(value));
    else if (key === "feat") q.set(key, value.join(","));
    else if (key === "cmp") value.forEach((c) => q.append(key, formatCompare(c)));
    else if (key === "cmpset" && value === "") continue;
    else if (key === "dataset" && value === "") continue;
    else q.set(key, String(value));
  }
  return q;
}

/** Write the configuration into the address bar without adding a history entry per keystroke. */
export function saveToUrl(config) {
  const url = new URL(window.location.href);
  url.search = toQuery(config).toString();
  window.history.replaceState(null, "", url);
}

/**
 * Take the activation lists from an answer of GET /v1/activations; false (and the lists kept)
 * when it holds nothing usable or nothing new.
 */
export function useActivations(answer) {
  const names = (list) => Array.isArray(list) && list.length > 0
    && list.every((name) => typeof name === "string");
  const hidden = (answer?.activations ?? []).filter((a) => a?.hidden).map((a) => a.name);
  const byTask = answer?.outputs_by_task ?? {};
  const outputs = Object.fromEntries(Object.entries(byTask).filter(([, list]) => names(list)));
  if (!names(hidden) || !names(outputs.binary)) return false;
  const changed = JSON.stringify([hidden, outputs])
    !== JSON.stringify([HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS]);
  HIDDEN_ACTIVATIONS = hidden;
  OUTPUT_ACTIVATIONS = outputs;
  return changed;
}

/** The output activations a task allows, and the one "auto" stands for (the first). */
export function outputChoices(task) {
  return OUTPUT_ACTIVATIONS[task] ?? OUTPUT_ACTIVATIONS.binary;
}

/** Weights plus biases of a network: the sum over layers of (fan_in + 1) * fan_out. */
export function parameterCount(nInputs, layers, nOutputs) {
  const sizes = [nInputs, ...layers.map((layer) => layer.units), nOutputs];
  let total = 0;
  for (let i = 1; i < sizes.length; i += 1) total += (sizes[i - 1] + 1) * sizes[i];
  return total;
}
