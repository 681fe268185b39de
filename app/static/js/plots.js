// Drawing on <canvas>: the dataset's scatter and the live cost curve.

// Class colours in the spirit of the TensorFlow Playground (orange vs blue), then more for
// multiclass sets; chosen to stay distinct for the common colour-vision deficiencies.
export const CLASS_COLOURS = ["#e8710a", "#1a73e8", "#188038", "#a142f4", "#d01884",
  "#12b5cb", "#795548", "#5f6368", "#f9ab00", "#3c4043"];

/** Size the canvas's backing store to its CSS size times the pixel ratio; returns a context. */
function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  return { context, width, height };
}

function extent(values) {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (!Number.isFinite(low)) return [0, 1];
  if (low === high) return [low - 1, high + 1];
  return [low, high];
}

/** A colour for a regression value in [low, high] (blue through white to orange). */
function valueColour(value, low, high) {
  const t = high > low ? (value - low) / (high - low) : 0.5;
  const blue = [26, 115, 232];
  const orange = [232, 113, 10];
  const white = [240, 240, 240];
  const [a, b, s] = t < 0.5 ? [blue, white, t * 2] : [white, orange, (t - 0.5) * 2];
  const mix = a.map((c, i) => Math.round(c + (b[i] - c) * s));
  return `rgb(${mix.join(",")})`;
}

/**
 * Scatter of a two-feature dataset: train points filled, test points hollow.
 * `data` is the /v1/datasets/{id}/data body; `classes` the dataset's class labels (or null).
 */
export function drawScatter(canvas, data, classes) {
  const { context: ctx, width, height } = prepare(canvas);
  const pad = 12;
  const xs = data.features.map((row) => row[0]);
  const ys = data.features.map((row) => row[1] ?? 0);
  const [x0, x1] = extent(xs);
  const [y0, y1] = extent(ys);
  const [t0, t1] = classes ? [0, 1] : extent(data.targets);
  const px = (x) => pad + ((x - x0) / (x1 - x0)) * (width - 2 * pad);
  const py = (y) => height - pad - ((y - y0) / (y1 - y0)) * (height - 2 * pad);
  ctx.fillStyle = "#fafafa";
  ctx.fillRect(0, 0, width, height);
  const radius = Math.max(2, Math.min(4, 900 / Math.sqrt(data.features.length) / 20));
  data.features.forEach((row, i) => {
    const target = data.targets[i];
    const colour = classes
      ? CLASS_COLOURS[Math.max(0, classes.indexOf(target)) % CLASS_COLOURS.length]
      : valueColour(target, t0, t1);
    ctx.beginPath();
    ctx.arc(px(xs[i]), py(ys[i]), radius, 0, 2 * Math.PI);
    if (data.split[i] === "test") {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.5;
      ctx.stroke();
    } else {
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.strokeStyle = "rgba(255,255,255,0.8)";
      ctx.lineWidth = 0.5;
      ctx.stroke();
    }
  });
}

function niceLabel(value) {
  if (value === 0) return "0";
  if (Math.abs(value) >= 100 || Math.abs(value) < 0.01) return value.toExponential(1);
  return value.toPrecision(2);
}

/** Where costs sit on the y axis: linear from 0, or log10 between the extremes. */
function costScale(values, logY) {
  if (logY) {
    const positive = values.filter((v) => v > 0);
    const [low, high] = extent(positive.map(Math.log10));
    const ticks = [low, (low + high) / 2, high].map((v) => 10 ** v);
    return { to: (v) => (Math.log10(Math.max(v, 10 ** low)) - low) / (high - low), ticks };
  }
  const [, high] = extent(values);
  const top = high > 0 ? high * 1.05 : 1;
  return { to: (v) => v / top, ticks: [0, top / 2, top] };
}

/**
 * The cost curve so far. `points` are {iteration, cost, validation?}; the x axis spans the run's
 * `nIter` iterations so the line grows from left to right as training goes.
 */
export function drawCurve(canvas, points, nIter, { logY = false } = {}) {
  const { context: ctx, width, height } = prepare(canvas);
  const left = 48;
  const right = 10;
  const top = 10;
  const bottom = 26;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  ctx.strokeStyle = "#9aa0a6";
  ctx.lineWidth = 1;
  ctx.strokeRect(left, top, width - left - right, height - top - bottom);
  ctx.fillStyle = "#3c4043";
  ctx.font = "11px system-ui, sans-serif";
  if (points.length === 0) {
    ctx.fillText("cost per iteration appears here", left + 8, top + 18);
    return;
  }
  const values = points.flatMap((p) => [p.cost, p.validation]).filter(Number.isFinite);
  const scale = costScale(values, logY);
  const xMax = Math.max(nIter, points[points.length - 1].iteration, 1);
  const px = (it) => left + (it / xMax) * (width - left - right);
  const py = (c) => height - bottom - scale.to(c) * (height - top - bottom);
  ctx.textAlign = "right";
  for (const tick of scale.ticks) ctx.fillText(niceLabel(tick), left - 4, py(tick) + 4);
  // The last label is right-aligned so it stays inside the canvas.
  [["left", 0], ["center", xMax / 2], ["right", xMax]].forEach(([align, tick]) => {
    ctx.textAlign = align;
    ctx.fillText(String(Math.round(tick)), px(tick), height - bottom + 14);
  });
  ctx.textAlign = "left";
  const series = [
    ["cost", "#e8710a", "train cost"],
    ["validation", "#1a73e8", "validation cost"],
  ];
  let legendY = top + 14;
  for (const [key, colour, label] of series) {
    const line = points.filter((p) => Number.isFinite(p[key]));
    if (line.length === 0) continue;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    line.forEach((p, i) => {
      if (i === 0) ctx.moveTo(px(p.iteration), py(p[key]));
      else ctx.lineTo(px(p.iteration), py(p[key]));
    });
    ctx.stroke();
    ctx.fillStyle = colour;
    ctx.fillText(label, width - right - 100, legendY);
    legendY += 14;
  }
}
