// The device key of device-bound session credentials (protocol.md §1.4): an ECDSA P-256 key made by
// WebCrypto, non-extractable, kept in this origin's IndexedDB, so only this browser profile can sign
// the JWTs that refresh a bound session. A copy of the cookies never carries it.

const DB_NAME = "sim-dbsc";
const STORE = "keys";
const KEY_NAME = "device";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, action) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const request = action(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

export async function loadDeviceKey() {
  try {
    return (await withStore("readonly", (store) => store.get(KEY_NAME))) ?? null;
  } catch {
    return null;
  }
}

export async function makeDeviceKey() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  await withStore("readwrite", (store) => store.put(pair, KEY_NAME));
  return pair;
}

export async function publicJwk(pair) {
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { kty, crv, x, y };
}

function b64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const encode = (value) => b64url(new TextEncoder().encode(JSON.stringify(value)));

// ES256: WebCrypto's ECDSA signature is already the raw r||s form JWS wants.
export async function signJwt(pair, claims) {
  const input = `${encode({ alg: "ES256", typ: "JWT" })}.${encode(claims)}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(input));
  return `${input}.${b64url(signature)}`;
}

const CHALLENGE = /challenge=("?)([^";]+)\1/;

// GET /RotateBoundCookies answers 401 with a challenge; the same request signed by the device key
// gets a fresh __Secure-1PSIDTS (protocol.md §1.4). True when the ticket was renewed. Chrome itself
// sends the proof as Sec-Session-Google-Response; a page script may not set Sec- headers (fetch
// drops them), so this stand-in for Chrome's DBSC sends the same JWT without the prefix.
export async function rotateBound(pair, timeoutMs) {
  const first = await fetch("/RotateBoundCookies", { signal: AbortSignal.timeout(timeoutMs) });
  if (first.ok) return true;
  const match = CHALLENGE.exec(first.headers.get("Sec-Session-Google-Challenge") ?? "");
  if (first.status !== 401 || !match) return false;
  const jwt = await signJwt(pair, { challenge: match[2] });
  const second = await fetch("/RotateBoundCookies", {
    headers: { "Session-Google-Response": jwt },
    signal: AbortSignal.timeout(timeoutMs),
  });
  return second.ok;
}
