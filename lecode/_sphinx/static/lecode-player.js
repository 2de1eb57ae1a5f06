/* Scrubbable explorers of the lecode book: each control picks one of the
   explorer's precomputed frames (drawn by its own compute/draw at build time).
   Frames are fetched when the player nears the viewport and decoded ahead, so
   moving a control swaps the image at the next frame. No dependencies. */
(function () {
  "use strict";

  function setup(root) {
    var spec = JSON.parse(root.getAttribute("data-lecode-player"));
    var img = root.querySelector("img.lecode-player-frame");
    var full = root.querySelector("a.lecode-player-full");   // the shown frame at full size
    var index = spec.controls.map(function (c) { return c.default; });
    var ready = {};       // frame name -> decoded Image

    function name(ix) { return ix.join("-") + ".webp"; }

    function show() {
      var frame = name(index);
      spec.controls.forEach(function (c, j) {
        var box = root.querySelector('[data-control="' + j + '"]');
        var range = box.querySelector('input[type="range"]');
        if (range) {
          range.value = index[j];
          range.setAttribute("aria-valuetext", c.values[index[j]]);
          box.querySelector("output").textContent = c.values[index[j]];
        } else {
          box.querySelectorAll('input[type="radio"]').forEach(function (r) {
            r.checked = Number(r.value) === index[j];
          });
        }
      });
      img.src = spec.base + frame;   // already decoded when preloaded: no visible wait
      img.alt = spec.alt[frame];
      if (full) { full.href = spec.base + frame; }
      root.setAttribute("data-frame", frame);
    }

    function preload() {
      Object.keys(spec.alt).forEach(function (frame) {
        if (ready[frame]) { return; }
        var im = new Image();
        im.src = spec.base + frame;
        ready[frame] = im;
        if (im.decode) { im.decode().catch(function () {}); }
      });
    }

    root.querySelectorAll("[data-control]").forEach(function (box) {
      var j = Number(box.getAttribute("data-control"));
      box.addEventListener("input", function (event) {
        index[j] = Number(event.target.value);
        show();
      });
      box.addEventListener("change", function (event) {   // radio buttons moved by arrow keys
        if (Number(event.target.value) !== index[j]) {
          index[j] = Number(event.target.value);
          show();
        }
      });
    });

    if ("IntersectionObserver" in window) {
      var watcher = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) {
          watcher.disconnect();
          preload();
        }
      }, { rootMargin: "800px 0px" });
      watcher.observe(root);
    } else {
      preload();
    }
    root.lecodePlayer = { preload: preload, frame: function () { return name(index); } };
    root.classList.add("lecode-player-ready");
  }

  function start() {
    document.querySelectorAll("figure.lecode-player").forEach(setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
