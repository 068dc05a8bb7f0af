// A module zip in memory (entries <module>@<version>/<file>), for GOPROXY
// fixtures, written with JSZip (independently of lib/archive) and without
// directory entries, which the go command refuses.
import JSZip from 'jszip';

export async function moduleZipBytes(modPath: string, version: string, files: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new JSZip();
  for (const [name, body] of Object.entries(files)) zip.file(`${modPath}@${version}/${name}`, body, { createFolders: false });
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}
