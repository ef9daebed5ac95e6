// The browser side of the timeline and the viewer. The server sends the months (with counts) as
// page state; the photos of a month arrive here, only when its section nears the viewport, and
// React renders them from this store (useSyncExternalStore). Months far from the viewport are
// dropped again, keeping their measured height. The viewer's keys, swipe, zoom and history
// entry live here too; what they do goes to the server through the viewer's buttons.
(() => {
  if (window.imgstreamTimeline) return;

  const LOAD_MARGIN = 1.5; // viewport heights around the viewport whose months are loaded
  const DROP_MARGIN = 8; // viewport heights beyond which a loaded month is dropped

  const days = {}; // month -> [{day, label, cards}]
  const heights = {}; // month -> measured height (px) of a month that was dropped
  const requested = new Set();
  const listeners = new Set();
  let snapshot = { days: {}, heights: {} };
  let report = null;
  let scanQueued = false;
  const placeholders = new Map(); // thumbhash -> data URL

  const placeholder = (hash) => {
    if (!hash) return "";
    let url = placeholders.get(hash);
    if (url === undefined) {
      try {
        const bytes = Uint8Array.from(atob(hash), (c) => c.charCodeAt(0));
        url = thumbHashToDataURL(bytes);
      } catch (e) {
        url = "";
      }
      placeholders.set(hash, url);
    }
    return url;
  };

  const publish = () => {
    snapshot = { days: { ...days }, heights: { ...heights } };
    for (const listener of listeners) listener();
    queueScan();
  };

  const sections = () => document.querySelectorAll("[data-timeline-month]");

  // After a jump, the month stays at the top while months around it load and change size
  // (their placeholders, replaced, cannot anchor the scroll position), until the person scrolls.
  let pinned = null;
  const unpin = () => {
    pinned = null;
  };
  for (const type of ["wheel", "touchstart", "keydown", "mousedown"]) {
    window.addEventListener(type, unpin, { passive: true, capture: true });
  }
  const keepPinned = () => {
    if (!pinned) return;
    if (performance.now() > pinned.until) {
      pinned = null;
      return;
    }
    const section = document.querySelector(`[data-timeline-month="${pinned.month}"]`);
    if (section && Math.abs(section.getBoundingClientRect().top) > 1) {
      section.scrollIntoView({ block: "start" });
    }
  };

  const scan = () => {
    scanQueued = false;
    keepPinned();
    if (!report) return;
    const viewport = window.innerHeight;
    const need = [];
    const dropped = [];
    for (const section of sections()) {
      const month = section.getAttribute("data-timeline-month");
      const box = section.getBoundingClientRect();
      const near =
        box.bottom > -LOAD_MARGIN * viewport && box.top < (1 + LOAD_MARGIN) * viewport;
      const far = box.bottom < -DROP_MARGIN * viewport || box.top > (1 + DROP_MARGIN) * viewport;
      if (near && !(month in days) && !requested.has(month)) need.push(month);
      if (far && month in days) {
        heights[month] = box.height;
        delete days[month];
        dropped.push(month);
      }
    }
    if (need.length) {
      // Two at a time, in page order: the first month on screen is not kept waiting behind
      // others; the next scan (after they arrive) asks for more.
      const asked = need.slice(0, 2);
      for (const month of asked) requested.add(month);
      report({ kind: "need", months: asked });
    }
    if (dropped.length) {
      report({ kind: "dropped", months: dropped });
      publish();
    }
  };

  const queueScan = () => {
    if (scanQueued) return;
    scanQueued = true;
    requestAnimationFrame(scan);
  };

  window.addEventListener("scroll", queueScan, { passive: true });
  window.addEventListener("resize", queueScan);

  const noop = () => {};
  window.imgstreamTimeline = {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot() {
      return snapshot;
    },
    // The page's timeline state takes what this script asks for.
    connect(reporter) {
      report = reporter;
      // Months appear as the page renders them (after uploads, a new page): look again then.
      if (!this.watching) {
        this.watching = new MutationObserver(queueScan);
        this.watching.observe(document.body, { childList: true, subtree: true });
      }
      queueScan();
    },
    // A new page state: nothing it knows of is loaded here.
    reset() {
      for (const month of Object.keys(days)) delete days[month];
      for (const month of Object.keys(heights)) delete heights[month];
      requested.clear();
      publish();
    },
    // months: [{month, days: [{day, label, cards: [{..., thumbhash}]}]}]
    put(months) {
      for (const { month, days: monthDays } of months) {
        for (const day of monthDays) {
          for (const card of day.cards) card.placeholder = placeholder(card.thumbhash);
        }
        days[month] = monthDays;
        delete heights[month];
        requested.delete(month);
      }
      publish();
    },
    // One photo changed (a favourite): its card, wherever it is loaded.
    patch(id, changes) {
      for (const month of Object.keys(days)) {
        const monthDays = days[month];
        if (!monthDays.some((day) => day.cards.some((card) => card.id === id))) continue;
        days[month] = monthDays.map((day) => ({
          ...day,
          cards: day.cards.map((card) => (card.id === id ? { ...card, ...changes } : card)),
        }));
      }
      publish();
    },
    // Months that no longer have photos.
    forget(months) {
      for (const month of months) {
        delete days[month];
        delete heights[month];
        requested.delete(month);
      }
      publish();
    },
    jump(month) {
      const section = document.querySelector(`[data-timeline-month="${month}"]`);
      if (section) section.scrollIntoView({ block: "start" });
      pinned = { month, until: performance.now() + 3000 };
      queueScan();
    },
    scan: queueScan,
    noop,
  };

  // The viewer: keys, swipe, zoom, and a history entry so that Back closes it.
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
    // The viewer opened over the timeline: Back closes it.
    opened(id) {
      const url = `/photo/${id}`;
      if (viewer.pushed) {
        history.replaceState(history.state, "", url);
      } else {
        history.pushState(history.state, "", url);
        viewer.pushed = true;
      }
      this.reset();
    },
    // The photo changed (previous, next): start unzoomed.
    shown(id) {
      if (viewer.pushed) history.replaceState(history.state, "", `/photo/${id}`);
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
