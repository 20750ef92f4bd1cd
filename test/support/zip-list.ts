import { readFile } from 'node:fs/promises';

/**
 * The file names in a zip archive, read from its central directory (no unzip binary needed). Handles the
 * archives `sls package` writes: no zip64, a comment of at most 64 KiB.
 */
export async function zipEntries(path: string): Promise<string[]> {
  const b = await readFile(path);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (b.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${path}: not a zip archive (no end of central directory)`);
  const count = b.readUInt16LE(eocd + 10);
  let pos = b.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    if (b.readUInt32LE(pos) !== 0x02014b50) throw new Error(`${path}: bad central directory entry ${n}`);
    const nameLen = b.readUInt16LE(pos + 28);
    const extraLen = b.readUInt16LE(pos + 30);
    const commentLen = b.readUInt16LE(pos + 32);
    names.push(b.toString('utf8', pos + 46, pos + 46 + nameLen));
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}
