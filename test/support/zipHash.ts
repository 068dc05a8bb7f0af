// dirhash.HashZip (the module's h1: hash) of zip bytes, written independently
// of lib/ so tests check lib's hashing against a second implementation.
import crypto from 'node:crypto';
import JSZip from 'jszip';

export async function zipH1(data: Buffer): Promise<string> {
  const zip = await JSZip.loadAsync(data);
  const names = Object.keys(zip.files).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const lines: Buffer[] = [];
  for (const name of names) {
    const content = await zip.files[name].async('nodebuffer');
    lines.push(Buffer.from(`${crypto.createHash('sha256').update(content).digest('hex')}  ${name}\n`));
  }
  return 'h1:' + crypto.createHash('sha256').update(Buffer.concat(lines)).digest('base64');
}
