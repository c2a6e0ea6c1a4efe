// A Standard Webhooks receiver's check of asymmetric (`v1a`) signatures,
// written from the specification's text and Node's own Ed25519, sharing no
// code with Hookline. Reads {publicKey, id, timestamp, signature, body} as
// JSON on stdin; exits 0 when a `v1a` signature in the space-separated
// `signature` verifies `id.timestamp.body` with the `whpk_` public key and
// the timestamp is within five minutes of now, 1 otherwise (saying why).
import { createPublicKey, verify } from "node:crypto";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { publicKey, id, timestamp, signature, body } = JSON.parse(input);

if (!publicKey.startsWith("whpk_")) fail(`not a whpk_ key: ${publicKey}`);
const raw = Buffer.from(publicKey.slice("whpk_".length), "base64");
if (raw.length !== 32) fail(`a public key of ${raw.length} bytes`);
const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });

const now = Math.floor(Date.now() / 1000);
if (Math.abs(now - Number(timestamp)) > 300) fail(`timestamp ${timestamp} is not within 5 minutes of ${now}`);

const signed = Buffer.from(`${id}.${timestamp}.${body}`, "utf8");
const verified = signature.split(" ").some((entry) => {
  const comma = entry.indexOf(",");
  if (entry.slice(0, comma) !== "v1a") return false;
  return verify(null, signed, key, Buffer.from(entry.slice(comma + 1), "base64"));
});
if (!verified) fail("no v1a signature verifies with this public key");

function fail(why) {
  console.error(why);
  process.exit(1);
}
