// Draws test images beside their attention rollout (the [class] token's row, over the patch grid) as
// one SVG: per image the grayscale picture, the rollout map upsampled to the image, and the labels.

/** One picture for {@link rolloutSvg}. */
export interface RolloutPanel {
  /** Pixels in [0, 1], row-major H×W. */
  pixels: ArrayLike<number>;
  /** Rollout map in [0, 1], row-major over the patch grid gh×gw. */
  map: ArrayLike<number>;
  label: string;
  predicted: string;
}

const CELL = 4; // SVG units per pixel

function gray(v: number): string {
  const g = Math.round(255 * Math.min(1, Math.max(0, v)));
  return `rgb(${g},${g},${g})`;
}

// A dark-to-bright heat ramp (black → red → yellow → white).
function heat(v: number): string {
  const t = Math.min(1, Math.max(0, v));
  const r = Math.round(255 * Math.min(1, 3 * t));
  const g = Math.round(255 * Math.min(1, Math.max(0, 3 * t - 1)));
  const b = Math.round(255 * Math.max(0, 3 * t - 2));
  return `rgb(${r},${g},${b})`;
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An SVG document with one column per panel: image, rollout map, true and predicted label. */
export function rolloutSvg(
  panels: readonly RolloutPanel[],
  size: readonly [number, number],
  grid: readonly [number, number],
  title: string,
): string {
  const [h, w] = size;
  const [gh, gw] = grid;
  const colW = w * CELL + 16;
  const width = panels.length * colW + 16;
  const height = 2 * h * CELL + 90;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="16" font-size="13">${escape(title)}</text>`,
  ];
  panels.forEach((p, k) => {
    const x0 = 8 + k * colW;
    const y0 = 28;
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        parts.push(
          `<rect x="${x0 + j * CELL}" y="${y0 + i * CELL}" width="${CELL}" height="${CELL}" fill="${gray(p.pixels[i * w + j] as number)}"/>`,
        );
    const y1 = y0 + h * CELL + 6;
    const ph = (h / gh) * CELL;
    const pw = (w / gw) * CELL;
    for (let i = 0; i < gh; i++)
      for (let j = 0; j < gw; j++)
        parts.push(
          `<rect x="${x0 + j * pw}" y="${y1 + i * ph}" width="${pw}" height="${ph}" fill="${heat(p.map[i * gw + j] as number)}"/>`,
        );
    const ok = p.label === p.predicted;
    parts.push(
      `<text x="${x0}" y="${y1 + h * CELL + 16}">${escape(p.label)}</text>`,
      `<text x="${x0}" y="${y1 + h * CELL + 30}" fill="${ok ? '#2a7a2a' : '#b22222'}">→ ${escape(p.predicted)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
