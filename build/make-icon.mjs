// Draws resources/icon.png (512×512 RGBA): three linked hosts on a rounded tile. Run once with
// `node build/make-icon.mjs`; kept so the icon can be regenerated without an image editor.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const pixels = Buffer.alloc(SIZE * SIZE * 4);

function blend(x, y, [r, g, b], alpha) {
  if (x < 0 || y < 0 || x >= SIZE || y >= SIZE || alpha <= 0) return;
  const at = (y * SIZE + x) * 4;
  const a = Math.min(1, alpha);
  const under = pixels[at + 3] / 255;
  const out = a + under * (1 - a);
  const mix = (top, bottom) => Math.round((top * a + bottom * under * (1 - a)) / (out || 1));
  pixels[at] = mix(r, pixels[at]);
  pixels[at + 1] = mix(g, pixels[at + 1]);
  pixels[at + 2] = mix(b, pixels[at + 2]);
  pixels[at + 3] = Math.round(out * 255);
}

/** Anti-aliased coverage of a pixel by a signed-distance shape (negative inside). */
const coverage = (distance) => Math.max(0, Math.min(1, 0.5 - distance));

function roundedTile(margin, radius) {
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const qx = Math.max(Math.abs(x + 0.5 - SIZE / 2) - (SIZE / 2 - margin - radius), 0);
      const qy = Math.max(Math.abs(y + 0.5 - SIZE / 2) - (SIZE / 2 - margin - radius), 0);
      const distance = Math.hypot(qx, qy) - radius;
      const t = y / SIZE;
      blend(x, y, [Math.round(18 + 10 * t), Math.round(70 + 60 * t), Math.round(120 + 70 * t)], coverage(distance));
    }
  }
}

function segment([ax, ay], [bx, by], width, color) {
  const [minX, maxX] = [Math.min(ax, bx) - width, Math.max(ax, bx) + width];
  const [minY, maxY] = [Math.min(ay, by) - width, Math.max(ay, by) + width];
  for (let y = Math.floor(minY); y <= maxY; y++) {
    for (let x = Math.floor(minX); x <= maxX; x++) {
      const [px, py] = [x + 0.5 - ax, y + 0.5 - ay];
      const [dx, dy] = [bx - ax, by - ay];
      const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
      blend(x, y, color, coverage(Math.hypot(px - t * dx, py - t * dy) - width / 2));
    }
  }
}

function disc([cx, cy], radius, color) {
  for (let y = Math.floor(cy - radius - 1); y <= cy + radius + 1; y++) {
    for (let x = Math.floor(cx - radius - 1); x <= cx + radius + 1; x++) blend(x, y, color, coverage(Math.hypot(x + 0.5 - cx, y + 0.5 - cy) - radius));
  }
}

roundedTile(16, 96);
const hosts = [[256, 150], [150, 350], [362, 350]];
for (const [from, to] of [[0, 1], [1, 2], [2, 0]]) segment(hosts[from], hosts[to], 18, [230, 240, 250]);
for (const host of hosts) {
  disc(host, 58, [230, 240, 250]);
  disc(host, 38, [46, 196, 160]);
}

function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
const rows = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) pixels.copy(rows, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
writeFileSync(new URL('../resources/icon.png', import.meta.url), png);
