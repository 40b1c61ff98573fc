// The sign-in success page (our own path, not in the evidence): makes this browser's device key,
// registers its public half with the session the new cookies name, then goes on to `continue`.

import { makeDeviceKey, publicJwk, signJwt } from "./devicekey.js";

const config = JSON.parse(document.getElementById("bind-config").textContent);

async function bind() {
  try {
    const pair = await makeDeviceKey();
    await fetch("/RegisterBoundSession", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: await publicJwk(pair), jwt: await signJwt(pair, { challenge: config.nonce }) }),
    });
  } finally {
    location.replace(config.continue);
  }
}

bind();
