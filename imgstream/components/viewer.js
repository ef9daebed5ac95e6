// The browser side of the photo viewer: keys, swipe, zoom, and a history entry so that Back
// closes it. What they do goes to the server through the viewer's buttons.
(() => {
  if (window.imgstreamViewer) return;

  const viewer = { pushed: false, scale: 1, x: 0, y: 0, pointers: new Map(), start: null };
  const button = (name) => document.querySelector(`[data-testid="viewer-${name}"]`);
  const press = (name) => {
    const target = button(name);
    if (target && !target.disabled) target.click();
  };
  const image = () => document.querySelector("[data-viewer-image]");
  const isOpen = () => !!document.querySelector("[data-testid=viewer]");

  const apply = () => {
    const img = image();
    if (!img) return;
    img.style.transform =
      viewer.scale === 1 ? "" : `translate(${viewer.x}px, ${viewer.y}px) scale(${viewer.scale})`;
    img.style.cursor = viewer.scale === 1 ? "zoom-in" : "grab";
    if (viewer.scale > 1) {
      const full = img.getAttribute("data-full-src");
      if (full && img.getAttribute("src") !== full) img.setAttribute("src", full);
    }
  };
  const zoomTo = (scale, cx, cy) => {
    const img = image();
    if (!img) return;
    const box = img.getBoundingClientRect();
    const next = Math.min(Math.max(scale, 1), 8);
    // Keep the point under the cursor where it is.
    const ox = cx - (box.left + box.width / 2);
    const oy = cy - (box.top + box.height / 2);
    const ratio = next / viewer.scale;
    viewer.x = next === 1 ? 0 : viewer.x - ox * (ratio - 1);
    viewer.y = next === 1 ? 0 : viewer.y - oy * (ratio - 1);
    viewer.scale = next;
    apply();
  };
  const fullScale = () => {
    const img = image();
    if (!img) return 2;
    const width = Number(img.getAttribute("data-full-width")) || img.naturalWidth;
    return Math.max(2, width / img.getBoundingClientRect().width);
  };

  window.imgstreamViewer = {
    // The viewer opened over the timeline or an album (url: the photo's address there): Back
    // closes it.
    opened(url) {
      if (viewer.pushed) {
        history.replaceState(history.state, "", url);
      } else {
        history.pushState(history.state, "", url);
        viewer.pushed = true;
      }
      this.reset();
    },
    // The photo changed (previous, next): start unzoomed.
    shown(url) {
      if (viewer.pushed) history.replaceState(history.state, "", url);
      this.reset();
    },
    // Closing from the page: take the history entry back (popstate then does nothing more).
    closed() {
      this.reset();
      if (viewer.pushed) {
        viewer.pushed = false;
        history.back();
      } else if (location.pathname.startsWith("/photo/")) {
        history.replaceState(history.state, "", "/");
      } else if (location.pathname.startsWith("/albums/") && location.search) {
        history.replaceState(history.state, "", location.pathname);
      }
    },
    reset() {
      viewer.scale = 1;
      viewer.x = 0;
      viewer.y = 0;
      requestAnimationFrame(apply);
    },
  };

  window.addEventListener("popstate", () => {
    if (viewer.pushed && isOpen()) {
      viewer.pushed = false;
      press("close");
    }
  });

  document.addEventListener("keydown", (event) => {
    if (!isOpen() || event.defaultPrevented) return;
    const field = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (field) return;
    if (event.key === "ArrowLeft") press("prev");
    else if (event.key === "ArrowRight") press("next");
    else if (event.key === "Escape") press("close");
    else return;
    event.preventDefault();
  });

  const onStage = (event) => event.target.closest && event.target.closest("[data-viewer-stage]");

  document.addEventListener(
    "wheel",
    (event) => {
      if (!onStage(event)) return;
      event.preventDefault();
      zoomTo(viewer.scale * Math.exp(-event.deltaY / 300), event.clientX, event.clientY);
    },
    { passive: false },
  );

  document.addEventListener("click", (event) => {
    if (!event.target.closest || !event.target.closest("[data-viewer-image]")) return;
    if (viewer.moved) {
      viewer.moved = false;
      return;
    }
    if (viewer.scale > 1) zoomTo(1, event.clientX, event.clientY);
    else zoomTo(fullScale(), event.clientX, event.clientY);
  });

  document.addEventListener("pointerdown", (event) => {
    if (!onStage(event)) return;
    viewer.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    viewer.start = {
      x: event.clientX,
      y: event.clientY,
      vx: viewer.x,
      vy: viewer.y,
      scale: viewer.scale,
      distance: pinchDistance(),
    };
    viewer.moved = false;
  });

  const pinchDistance = () => {
    const [a, b] = [...viewer.pointers.values()];
    return a && b ? Math.hypot(a.x - b.x, a.y - b.y) : 0;
  };

  document.addEventListener("pointermove", (event) => {
    if (!viewer.pointers.has(event.pointerId) || !viewer.start) return;
    viewer.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    const start = viewer.start;
    if (viewer.pointers.size === 2 && start.distance) {
      const [a, b] = [...viewer.pointers.values()];
      viewer.scale = start.scale;
      zoomTo(start.scale * (pinchDistance() / start.distance), (a.x + b.x) / 2, (a.y + b.y) / 2);
      viewer.moved = true;
      return;
    }
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    if (Math.abs(dx) + Math.abs(dy) > 6) viewer.moved = true;
    if (viewer.scale > 1) {
      viewer.x = start.vx + dx;
      viewer.y = start.vy + dy;
      apply();
    }
  });

  const release = (event) => {
    if (!viewer.pointers.has(event.pointerId)) return;
    const start = viewer.start;
    viewer.pointers.delete(event.pointerId);
    if (viewer.pointers.size) return;
    viewer.start = null;
    if (!start || viewer.scale > 1 || start.distance) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    // A horizontal swipe turns the page.
    if (Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy)) press(dx < 0 ? "next" : "prev");
  };
  document.addEventListener("pointerup", release);
  document.addEventListener("pointercancel", release);
})();
