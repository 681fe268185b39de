// Heat maps of values over the input plane: each neuron's output and the network's output.

import { CLASS_COLOURS } from "./plots.js";

const BLUE = [26, 115, 232];
const ORANGE = [232, 113, 10];
const WHITE = [245, 245, 245];

/** RGB of a value in [-1, 1]: orange for negative, white at 0, blue for positive. */
export function divergingColour(t) {
  const s = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const [from, to, k] = s < 0 ? [WHITE, ORANGE, -s] : [WHITE, BLUE, s];
  return from.map((c, i) => Math.round(c + (to[i] - c) * k));
}

/** How a layer's values map to [-1, 1]: probabilities around 0.5, others by their size. */
export function scaleFor(activation, low, high) {
  if (activation === "sigmoid" || activation === "softmax") return (v) => 2 * v - 1;
  const size = Math.max(Math.abs(low), Math.abs(high), 1e-9);
  return (v) => v / size;
}

/**
 * Fill `canvas` with `values` (resolution² of them, rows from the bottom up), each through
 * `toUnit` to [-1, 1]; `classesOf(k)` (multiclass) colours a point by its class instead.
 * `fade` (0 to 1) mixes in white, so that points drawn on top stay visible.
 */
export function drawGrid(canvas, values, resolution, toUnit, classesOf = null, fade = 0) {
  const small = document.createElement("canvas");
  small.width = resolution;
  small.height = resolution;
  const ctx = small.getContext("2d");
  const image = ctx.createImageData(resolution, resolution);
  for (let k = 0; k < resolution * resolution; k += 1) {
    const row = resolution - 1 - Math.floor(k / resolution); // the canvas's y grows downwards
    const col = k % resolution;
    const rgb = classesOf ? hexColour(CLASS_COLOURS[classesOf(k) % CLASS_COLOURS.length])
      : divergingColour(toUnit(values[k]));
    const at = 4 * (row * resolution + col);
    image.data.set([...rgb.map((c) => Math.round(c + (255 - c) * fade)), 255], at);
  }
  ctx.putImageData(image, 0, 0);
  const out = canvas.getContext("2d");
  out.imageSmoothingEnabled = true;
  out.clearRect(0, 0, canvas.width, canvas.height);
  out.drawImage(small, 0, 0, canvas.width, canvas.height);
  return canvas;
}

function hexColour(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => Math.round(c * 0.6 + 255 * 0.4));
}
