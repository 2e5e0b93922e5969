/* Photos are made small on the phone before they are kept or sent: JPEG at 0.8, the long side at
   most 1600 px, turned upright from the camera's orientation (createImageBitmap with
   imageOrientation "from-image"). A picker shows thumbnails (object URLs, never markup). */
(function () {
  "use strict";
  const F = (window.GccField = window.GccField || {});
  const LONG_SIDE = 1600;
  const QUALITY = 0.8;
  const MAX_PHOTOS = 5;

  async function resize(file) {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    canvas.getContext("2d").drawImage(bitmap, 0, 0, w, h);
    bitmap.close && bitmap.close();
    return new Promise((resolve, reject) => canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error("encode"))), "image/jpeg", QUALITY));
  }
  F.resizePhoto = resize;

  /* A photo field: a big button opening the camera, thumbnails with a remove button.
     Returns {node, blobs(), reset()}. */
  F.photoPicker = function (id, label) {
    const blobs = [];
    const thumbs = F.el("div", { class: "m-thumbs" });
    const input = F.el("input", { type: "file", accept: "image/*", capture: "environment", id: id, class: "m-file", multiple: true });
    const button = F.el("label", { for: id, class: "m-btn m-photo-btn", text: label });
    function draw() {
      F.clear(thumbs);
      blobs.forEach((b, i) => {
        const url = URL.createObjectURL(b);
        const img = F.el("img", { src: url, alt: "" });
        img.addEventListener("load", () => URL.revokeObjectURL(url));
        thumbs.appendChild(F.el("div", { class: "m-thumb" }, [img,
          F.el("button", { type: "button", class: "m-x", text: F.t("m.report.remove"), onclick: () => { blobs.splice(i, 1); draw(); } })]));
      });
    }
    input.addEventListener("change", async () => {
      for (const file of Array.from(input.files || [])) {
        if (blobs.length >= MAX_PHOTOS) break;
        try { blobs.push(await resize(file)); } catch (e) { F.toast(F.t("m.report.photo_bad"), "bad"); }
      }
      input.value = "";
      draw();
    });
    return {
      node: F.el("div", { class: "m-photos" }, [input, button, thumbs]),
      blobs: () => blobs.slice(),
      reset() { blobs.length = 0; draw(); },
    };
  };
})();
