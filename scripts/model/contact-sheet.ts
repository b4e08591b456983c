/**
 * Experiment script: tile PNG slices (any bit depth) into one 8-bit contact sheet, each normalised and
 * resized like the network input, to compare synthetic and real images by eye.
 *   node --import tsx scripts/model/contact-sheet.ts OUT.png SIZE FILE…
 */
import { readPngSlice, writePngGray8 } from '../../main/imaging/png';
import { prepareSlice } from '../../main/model/preprocess';

const [out, sizeArg, ...files] = process.argv.slice(2);
if (!out || !sizeArg || files.length === 0) throw new Error('usage: OUT.png SIZE FILE…');
const size = Number(sizeArg);
const cols = Math.min(files.length, 6);
const rows = Math.ceil(files.length / cols);
const sheet = new Uint8Array(cols * size * rows * size);
for (let k = 0; k < files.length; k++) {
  const { pixels } = prepareSlice(await readPngSlice(files[k]!), { height: size, width: size });
  const ox = (k % cols) * size;
  const oy = Math.floor(k / cols) * size;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      sheet[(oy + y) * cols * size + ox + x] = Math.round(pixels[y * size + x]! * 255);
}
await writePngGray8(out, { width: cols * size, height: rows * size, data: sheet });
