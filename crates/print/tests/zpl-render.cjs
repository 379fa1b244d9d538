// Renders ZPL to PNG with zpl-renderer-js (Zebrash in WASM), for tests/zpl_rendered.rs.
// npm install zpl-renderer-js@3.4.0, then: node zpl-render.cjs IN.zpl OUT.png WIDTH_MM HEIGHT_MM DPMM
const fs = require("node:fs");
const { ready } = require("zpl-renderer-js");
(async () => {
  const [, , inp, out, w, h, dpmm] = process.argv;
  const { api } = await ready;
  const png = await api.zplToBase64Async(fs.readFileSync(inp, "utf8"), Number(w), Number(h), Number(dpmm));
  fs.writeFileSync(out, Buffer.from(png, "base64"));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
