// A stand-in OpenTelemetry collector for the browser tests: the server under
// test exports its spans here over OTLP/HTTP (serve-fresh.sh sets the
// endpoint). It keeps every export's raw protobuf and answers 200;
// GET /exports says how many arrived and whether one holds a given trace id
// (`?trace=<32 hex digits>`: a span's trace id is those 16 bytes, verbatim).
import { createServer } from "node:http";

const exports = [];
createServer((request, response) => {
  const url = new URL(request.url, "http://collector");
  if (request.method === "POST" && url.pathname === "/v1/traces") {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      exports.push(Buffer.concat(chunks));
      response.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
    return;
  }
  if (request.method === "GET" && url.pathname === "/exports") {
    const trace = url.searchParams.get("trace");
    const needle = trace && /^[0-9a-f]{32}$/.test(trace) ? Buffer.from(trace, "hex") : null;
    const body = {
      count: exports.length,
      holdsTrace: needle ? exports.some((raw) => raw.includes(needle)) : false,
    };
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    return;
  }
  response.writeHead(404).end();
}).listen(3101, "127.0.0.1");
