// A QR canvas on a page photographed as the bus tablet's camera sees a phone's screen:
// a 1280×720 grey frame, the code turned 7°, scaled to 30 % of the frame's height, blurred
// and with sensor noise (seeded, so a failing run can be repeated). Shared by the desk
// spec of the /prefill page and the app's check-in e2e (tests/e2e/prefill.test.mjs).

/** The PNG bytes of the frame with `page`'s canvas `#${canvasId}` in it. */
export async function cameraFrame(page, canvasId = "qr-canvas") {
  const data = await page.evaluate((id) => {
    const qr = document.getElementById(id);
    const frame = document.createElement("canvas");
    frame.width = 1280;
    frame.height = 720;
    const g = frame.getContext("2d");
    g.fillStyle = "#8c8c8c";
    g.fillRect(0, 0, 1280, 720);
    const side = Math.round(720 * 0.3);
    g.translate(610, 380);
    g.rotate((7 * Math.PI) / 180);
    g.filter = "blur(0.5px)";
    g.imageSmoothingEnabled = true;
    g.drawImage(qr, -side / 2, -side / 2, side, side);
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.filter = "none";
    const img = g.getImageData(0, 0, 1280, 720);
    let seed = 20261205;
    for (let i = 0; i < img.data.length; i += 4) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const n = ((seed / 2147483648) - 0.5) * 30;
      for (let c = 0; c < 3; c++) img.data[i + c] = Math.max(0, Math.min(255, img.data[i + c] + n));
    }
    g.putImageData(img, 0, 0);
    return frame.toDataURL("image/png");
  }, canvasId);
  return Buffer.from(data.split(",")[1], "base64");
}
