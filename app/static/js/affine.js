// Affine maps Z = W·X + b of the plane: the notes' first exercise, computed in the page.

/** The image of point [x, y] under W (2x2, rows) and b ([b1, b2]). */
export function applyAffine(W, b, [x, y]) {
  return [W[0][0] * x + W[0][1] * y + b[0], W[1][0] * x + W[1][1] * y + b[1]];
}

/** The unit square's corners, closed: [0,0] → [1,0] → [1,1] → [0,1] → [0,0]. */
export const UNIT_SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];

/** Grid lines over [-n, n]²: each a list of points (straight lines map to straight lines). */
export function gridLines(n = 2) {
  const lines = [];
  for (let k = -n; k <= n; k += 1) {
    lines.push([[k, -n], [k, n]], [[-n, k], [n, k]]);
  }
  return lines;
}

// The notes' three matrices, and the pictures A, B, C in a fixed shuffled order.
export const NOTES_MATRICES = [
  [[1, 0], [0, -1]],
  [[-1, 0], [0, 1]],
  [[-1, 0], [0, -1]],
];
export const PICTURE_ORDER = [2, 0, 1]; // picture A is matrix 3, B is matrix 1, C is matrix 2

/**
 * Draw the grid and the unit square before (grey) and after (blue) the map, with [1, 1] marked
 * (orange) and its image (blue).
 */
export function drawAffine(canvas, W, b, { span = 3 } = {}) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const px = ([x, y]) => [width / 2 + (x / span) * (width / 2), height / 2 - (y / span) * (height / 2)];
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  const path = (points, colour, lineWidth) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = lineWidth;
    ctx.beginPath();
    points.map(px).forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.stroke();
  };
  path([[-span, 0], [span, 0]], "#9aa0a6", 1);
  path([[0, -span], [0, span]], "#9aa0a6", 1);
  for (const line of gridLines(2)) path(line.map((p) => applyAffine(W, b, p)), "#c6dafc", 1);
  path(UNIT_SQUARE, "#5f6368", 2);
  path(UNIT_SQUARE.map((p) => applyAffine(W, b, p)), "#1a73e8", 2.5);
  const dot = (point, colour) => {
    const [x, y] = px(point);
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.arc(x, y, 5, 0, 2 * Math.PI);
    ctx.fill();
  };
  dot([1, 1], "#e8710a");
  dot(applyAffine(W, b, [1, 1]), "#1a73e8");
}
