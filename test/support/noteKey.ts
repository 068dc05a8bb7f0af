// Ed25519 signing keys for tests, made with Node's crypto, in the verifier
// key format of lib/sumdb/note.ts. (Signing is for tests only: modproxy
// itself only ever verifies.)
import crypto from 'node:crypto';
import { computeKeyHash } from '../../lib/sumdb/note.js';

export interface TestKey {
  name: string;
  vkey: string;
  /** Signs text (ending in "\n") and returns the signed note. */
  sign(text: string): Uint8Array;
  /** The raw signature line for text, "— name base64\n". */
  sigLine(text: string): string;
}

/** A fresh Ed25519 key named name, or one from a PRIVATE+KEY+… signer key. */
export function testKey(name: string, skey?: string): TestKey {
  let priv: crypto.KeyObject;
  if (skey) {
    const f = skey.split('+');
    name = f[2];
    const seed = Buffer.from(f.slice(4).join('+'), 'base64').subarray(1);
    priv = crypto.createPrivateKey({
      key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
      format: 'der',
      type: 'pkcs8',
    });
  } else {
    priv = crypto.generateKeyPairSync('ed25519').privateKey;
  }
  const pubRaw = Buffer.from(crypto.createPublicKey(priv).export({ format: 'jwk' }).x!, 'base64url');
  const enc = Buffer.concat([Buffer.of(1), pubRaw]);
  const hash = computeKeyHash(name, enc);
  const vkey = `${name}+${hash.toString(16).padStart(8, '0')}+${enc.toString('base64')}`;
  const sigLine = (text: string) => {
    const sig = crypto.sign(null, Buffer.from(text), priv);
    const h = Buffer.alloc(4);
    h.writeUInt32BE(hash);
    return `— ${name} ${Buffer.concat([h, sig]).toString('base64')}\n`;
  };
  return {
    name,
    vkey,
    sigLine,
    sign: (text) => new Uint8Array(Buffer.from(`${text}\n${sigLine(text)}`)),
  };
}
